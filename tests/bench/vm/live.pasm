; live.pasm — bench: a persistent program's shape. A live set of 100 000
; objects (~4 MB) stays in the heap while 4 million short-lived objects
; pass through it; one live entry in 256 iterations is replaced. Every
; collection cycle runs over the whole live set; only what the program
; changes should reach a snapshot.
.class Node
.field v next
.class Main
.method static main 0 0
.locals 4
    iconst 100000
    newarray
    store 0
    iconst 0
    store 1
fill:
    load 0
    load 1
    new Node
    dup
    load 1
    putfield Node.v
    astore
    iinc 1 1
    load 1
    iconst 100000
    if_icmplt fill
    iconst 0
    store 1
    iconst 0
    store 2
loop:
    new Node
    dup
    load 1
    putfield Node.v
    store 3
    load 1
    iconst 255
    iand
    ifne keep
    load 0
    load 1
    iconst 100000
    irem
    load 3
    astore
keep:
    load 2
    load 3
    getfield Node.v
    iadd
    iconst 1048575
    iand
    store 2
    iinc 1 1
    load 1
    iconst 4000000
    if_icmplt loop
    load 2
    load 0
    iconst 99999
    aload
    getfield Node.v
    iadd
    print
    return
.end
