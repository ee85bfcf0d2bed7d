; arith.pasm — int32 wrap-around, int64 beyond 63 bits (boxed longs),
; division semantics, shifts, conversions and doubles.
.class Main
.method static main 0 0
    iconst 2147483647
    iconst 1
    iadd
    print                      ; int32 wraps
    iconst -2147483648
    iconst -1
    idiv
    print                      ; MIN / -1 stays MIN
    iconst -7
    iconst 2
    irem
    print
    iconst -1
    iconst 28
    iushr
    print
    ldc 4611686018427387903L   ; largest immediate
    ldc 1L
    ladd
    print                      ; boxed now
    ldc 9223372036854775807L
    ldc 1L
    ladd
    print                      ; int64 wraps
    ldc 3037000499L
    dup
    lmul
    print
    ldc 10000000000L
    l2i
    print
    iconst 5
    i2l
    ldc 7L
    lcmp
    print
    iconst 300
    i2b
    print
    iconst 65537
    i2c
    print
    ldc 1.5
    ldc 2.25
    dadd
    print
    ldc 10.0
    ldc 4.0
    ddiv
    print
    ldc -7.9
    d2i
    print
    iconst 7
    i2d
    ldc 2.0
    dmul
    print
    ldc 1.0
    ldc 3.0
    dcmpl
    print
    return
.end
