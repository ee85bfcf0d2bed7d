; exceptions.pasm — throw and catch by class across frames, handler order,
; finally (a catch-all that rethrows), user exception classes, and
; exceptions raised by the VM itself (division by zero, null).
.class MyError extends Throwable
.method init 2 0
    load 0
    load 1
    putfield Throwable.message
    return
.end
.class Main
.method static fail 1 0
    load 0
    ifeq zero
    new MyError
    dup
    ldc "custom"
    invokespecial MyError.init
    throw
zero:
    iconst 1
    iconst 0
    idiv
    pop
    return
.end
; try { fail(x) } catch (MyError e) { print } finally { print "finally" }
.method static guarded 1 0
.locals 2
t0:
    load 0
    invokestatic Main.fail
t1:
    ldc "finally"
    print
    return
h_my:
    getfield Throwable.message
    ldc "caught MyError: "
    swap
    sconcat
    print
    ldc "finally"
    print
    return
h_any:
    store 1
    ldc "finally"
    print
    load 1
    throw
.catch MyError t0 t1 h_my
.catch * t0 t1 h_any
.end
.method static main 0 0
.locals 1
    iconst 1
    invokestatic Main.guarded
a0:
    iconst 0
    invokestatic Main.guarded      ; ArithmeticException passes through finally
a1:
    ldc "not reached"
    print
    return
h:
    store 0
    ldc "main caught "
    load 0
    getfield Throwable.message
    sconcat
    print
    aconst_null
    getfield MyError.message       ; NullPointerException, uncaught
    return
.catch ArithmeticException a0 a1 h
.end
