; strings.pasm — constant strings, concatenation with ints/longs/doubles,
; length, charAt, equality by content, console.write without newline.
.class Main
.method static main 0 0
.locals 2
    ldc "Hello"
    ldc ", "
    sconcat
    ldc "world"
    sconcat
    store 0
    load 0
    print
    load 0
    invokenative string.length
    print
    load 0
    iconst 7
    invokenative string.charAt
    print
    ldc "n="
    iconst -42
    sconcat
    ldc " l="
    sconcat
    ldc 12345678901234L
    sconcat
    ldc " d="
    sconcat
    ldc 0.125
    sconcat
    print
    ldc "ab"
    ldc "a"
    ldc "b"
    sconcat
    invokenative string.equals
    print
    ldc "ab"
    ldc "a"
    ldc "b"
    sconcat
    if_acmpeq same                 ; distinct objects
    ldc "distinct"
    print
same:
    ldc "no newline|"
    invokenative console.write
    ldc "tab\there \"quoted\""
    print
    aconst_null
    print
    return
.end
