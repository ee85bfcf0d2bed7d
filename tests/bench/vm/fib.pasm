; fib.pasm — bench: recursive fib(30).
.class Main
.method static fib 1 1
    load 0
    iconst 2
    if_icmplt small
    load 0
    iconst 1
    isub
    invokestatic Main.fib
    load 0
    iconst 2
    isub
    invokestatic Main.fib
    iadd
    vreturn
small:
    load 0
    vreturn
.end
.method static main 0 0
    iconst 30
    invokestatic Main.fib
    print
    return
.end
