; superops.pasm — the superinstructions: iaddll, iaddi, iandi, iaddst,
; iincload, if_icmplti (taken, not taken, as a loop back-edge) and sconcat3,
; with int32 wrap-around and a type error caught as an exception.
.class Main
.method static main 0 0
.locals 4
    iconst 2147483647
    store 0
    iconst 1
    store 1
    iaddll 0 1
    print
    iconst 10
    iaddi -25
    print
    iconst 1023
    iandi 7
    print
    iconst 0
    store 2
    iconst 0
    store 3
loop:
    load 3
    iaddst 2
    iincload 3 1
    if_icmplti loop 10
    load 2
    print
    load 3
    print
    iconst 5
    if_icmplti small -1
    ldc "not below -1"
    print
small:
    iincload 0 1
    print
    ldc "s"
    iconst 42
    aconst_null
    sconcat3
    ldc 12345678901234L
    ldc "-"
    ldc 0.5
    sconcat3
    ldc ""
    sconcat3
    print
    ldc "x"
    store 2
t0:
    iconst 1
    iaddst 2
t1:
    ldc "unreachable"
    print
    return
h_any:
    pop
    ldc "caught"
    print
    return
.catch * t0 t1 h_any
.end
