; interfaces.pasm — interface dispatch finds the method by name, argument
; and result count; a receiver without it raises AbstractMethodError.
.class interface Greeter
.method abstract greet 2 1
.end
.class English implements Greeter
.method greet 2 1
    ldc "hello "
    load 1
    sconcat
    vreturn
.end
.class Wrong
.method greet 2 0                  ; same name, no result: must not match
    return
.end
.class Main
.method static main 0 0
    new English
    ldc "bob"
    invokeinterface Greeter.greet
    print
    new Wrong
    ldc "eve"
    invokeinterface Greeter.greet
    print
    return
.end
