; strings.pasm — bench: build a string by 5000 concatenations.
; `s = s + (i % 10) + "ab"` is one three-way concatenation, as Java's
; string concatenation (and Lua's ..) joins all its parts at once.
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
    ldc "ab"
    sconcat3
    store 0
    iincload 1 1
    if_icmplti loop 5000
    load 0
    invokenative string.length
    print
    return
.end
