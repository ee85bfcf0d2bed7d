; loops.pasm — bench: nested loops, 3000 x 3000 additions.
.class Main
.method static main 0 0
.locals 3
    iconst 0
    store 2
    iconst 0
    store 0
outer:
    iconst 0
    store 1
inner:
    load 2
    load 0
    load 1
    iadd
    iconst 7
    iand
    iadd
    store 2
    iinc 1 1
    load 1
    iconst 3000
    if_icmplt inner
    iinc 0 1
    load 0
    iconst 3000
    if_icmplt outer
    load 2
    print
    return
.end
