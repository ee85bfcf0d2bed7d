; loops.pasm — bench: nested loops, 3000 x 3000 additions.
; Written with the superinstructions a Java translator emits for
; `for (j = 0; j < 3000; j++) s += (i + j) & 7;`.
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
    iaddll 0 1
    iandi 7
    iaddst 2
    iincload 1 1
    if_icmplti inner 3000
    iincload 0 1
    if_icmplti outer 3000
    load 2
    print
    return
.end
