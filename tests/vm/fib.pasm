; fib.pasm — recursive Fibonacci: static calls, int compare and arithmetic.
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
.locals 1
    iconst 0
    store 0
loop:
    load 0
    invokestatic Main.fib
    print
    iinc 0 5
    load 0
    iconst 30
    if_icmple loop
    return
.end
