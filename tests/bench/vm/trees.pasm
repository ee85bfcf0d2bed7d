; trees.pasm — bench: binary-trees, depth 16: build, check, drop.
.class Tree
.field l r
.class Main
.method static make 1 1
.locals 2
    new Tree
    store 1
    load 0
    ifle leaf
    load 1
    load 0
    iconst 1
    isub
    invokestatic Main.make
    putfield Tree.l
    load 1
    load 0
    iconst 1
    isub
    invokestatic Main.make
    putfield Tree.r
leaf:
    load 1
    vreturn
.end
.method static check 1 1
    load 0
    getfield Tree.l
    ifnull leaf
    load 0
    getfield Tree.l
    invokestatic Main.check
    load 0
    getfield Tree.r
    invokestatic Main.check
    iadd
    iconst 1
    iadd
    vreturn
leaf:
    iconst 1
    vreturn
.end
.method static main 0 0
.locals 3
    iconst 0
    store 1
    iconst 0
    store 0
loop:
    load 1
    iconst 16
    invokestatic Main.make
    invokestatic Main.check
    iadd
    store 1
    iinc 0 1
    load 0
    iconst 4
    if_icmplt loop
    load 1
    print
    return
.end
