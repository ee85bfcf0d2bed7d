; calls.pasm — bench: 5 million virtual method calls.
.class Counter
.field step
.method add 2 1
    load 1
    load 0
    getfield Counter.step
    iadd
    vreturn
.end
.class Main
.method static main 0 0
.locals 3
    new Counter
    dup
    iconst 3
    putfield Counter.step
    store 0
    iconst 0
    store 1
    iconst 0
    store 2
loop:
    load 0
    load 2
    invokevirtual Counter.add
    store 2
    iinc 1 1
    load 1
    iconst 5000000
    if_icmplt loop
    load 2
    print
    return
.end
