; alloc.pasm — builds and drops many linked lists so the collector must
; reclaim memory: 200 rounds x 20000 nodes is far more than the region.
; @no-gc-stress: a collection at every allocation would take minutes here.
.class Node
.field next val
.class Main
.method static build 1 1
.locals 3
    aconst_null
    store 1
    iconst 0
    store 2
loop:
    new Node
    dup
    load 1
    putfield Node.next
    dup
    load 2
    putfield Node.val
    store 1
    iinc 2 1
    load 2
    load 0
    if_icmplt loop
    load 1
    vreturn
.end
.method static sum 1 1
.locals 2
    iconst 0
    store 1
loop:
    load 0
    ifnull done
    load 1
    load 0
    getfield Node.val
    iadd
    store 1
    load 0
    getfield Node.next
    store 0
    goto loop
done:
    load 1
    vreturn
.end
.method static main 0 0
.locals 3
    iconst 0
    store 0
    aconst_null
    store 2
round:
    iconst 20000
    invokestatic Main.build
    store 2
    iinc 0 1
    load 0
    iconst 200
    if_icmplt round
    load 2
    invokestatic Main.sum
    print
    return
.end
