; arrays.pasm — new/load/store/length, nested arrays, a bubble sort, and
; a bounds error that is raised and caught instead of touching memory.
.class Main
.method static main 0 0
.locals 4
    iconst 6
    newarray
    store 0
    iconst 0
    store 1
fill:                          ; a[i] = (i * 7) % 6 with a twist
    load 0
    load 1
    load 1
    iconst 7
    imul
    iconst 5
    iadd
    iconst 6
    irem
    astore
    iinc 1 1
    load 1
    load 0
    arraylength
    if_icmplt fill
    load 0
    invokestatic Main.sort
    load 0
    invokestatic Main.show
    iconst 2
    newarray
    store 2
    load 2
    iconst 1
    load 0
    astore
    load 2
    iconst 1
    aload
    iconst 5
    aload
    print
try_start:
    load 0
    iconst 6
    aload
    print
try_end:
    goto after
caught:
    store 3
    ldc "caught "
    load 3
    getfield Throwable.message
    sconcat
    print
after:
    iconst -1
    newarray
    return
.catch ArrayIndexOutOfBoundsException try_start try_end caught
.end
.method static sort 1 0
.locals 4
    iconst 0
    store 1
outer:
    iconst 0
    store 2
inner:
    load 0
    load 2
    aload
    load 0
    load 2
    iconst 1
    iadd
    aload
    if_icmple noswap
    load 0
    load 2
    aload
    store 3
    load 0
    load 2
    load 0
    load 2
    iconst 1
    iadd
    aload
    astore
    load 0
    load 2
    iconst 1
    iadd
    load 3
    astore
noswap:
    iinc 2 1
    load 2
    load 0
    arraylength
    iconst 1
    isub
    if_icmplt inner
    iinc 1 1
    load 1
    load 0
    arraylength
    if_icmplt outer
    return
.end
.method static show 1 0
.locals 3
    ldc ""
    store 1
    iconst 0
    store 2
loop:
    load 1
    load 0
    load 2
    aload
    sconcat
    ldc " "
    sconcat
    store 1
    iinc 2 1
    load 2
    load 0
    arraylength
    if_icmplt loop
    load 1
    print
    return
.end
