; strings.pasm — bench: build a string by 5000 concatenations.
.class Main
.method static main 0 0
.locals 2
    ldc ""
    store 0
    iconst 0
    store 1
loop:
    load 0
    load 1
    iconst 10
    irem
    sconcat
    ldc "ab"
    sconcat
    store 0
    iinc 1 1
    load 1
    iconst 5000
    if_icmplt loop
    load 0
    invokenative string.length
    print
    return
.end
