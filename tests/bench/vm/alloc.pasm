; alloc.pasm — bench: 3 million small objects allocated and dropped.
.class Point
.field x y
.class Main
.method static main 0 0
.locals 3
    iconst 0
    store 0
    iconst 0
    store 1
loop:
    new Point
    dup
    load 0
    putfield Point.x
    dup
    load 0
    iconst 1
    iadd
    putfield Point.y
    store 2
    load 1
    load 2
    getfield Point.x
    load 2
    getfield Point.y
    iadd
    iconst 1023
    iand
    iadd
    store 1
    iinc 0 1
    load 0
    iconst 3000000
    if_icmplt loop
    load 1
    print
    return
.end
