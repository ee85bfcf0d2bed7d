; combined.pasm — one program using objects, strings, arrays, exceptions and
; threads together: three worker threads each fill an array, sum it, add the
; sum to a shared object under its monitor, throw and catch their own
; exception and return a string; main joins them. vm_samples_test also runs
; it restored mid-run, so its heap and threads survive a round trip.
.class Oops extends Throwable
.method init 2 0
    load 0
    load 1
    putfield Throwable.message
    return
.end
.class Acc
.field total
.class Main
.static acc
; worker(n): a[i] = i*i for i < n; s = sum(a); acc.total += s (locked);
; try { throw new Oops("sum " + s) } catch (Oops e) { return e.message }
.method static worker 1 1
.locals 4
    load 0
    newarray
    store 1
    iconst 0
    store 2
fill:
    load 1
    load 2
    load 2
    load 2
    imul
    astore
    iinc 2 1
    load 2
    load 0
    if_icmplt fill
    iconst 0
    store 3
    iconst 0
    store 2
sum:
    load 3
    load 1
    load 2
    aload
    iadd
    store 3
    invokenative thread.yield
    iinc 2 1
    load 2
    load 1
    arraylength
    if_icmplt sum
    getstatic Main.acc
    monitorenter
    getstatic Main.acc
    getstatic Main.acc
    getfield Acc.total
    load 3
    iadd
    putfield Acc.total
    getstatic Main.acc
    monitorexit
t0:
    new Oops
    dup
    ldc "sum "
    load 3
    sconcat
    invokespecial Oops.init
    throw
t1:
    ldc "not reached"
    vreturn
h:
    getfield Throwable.message
    vreturn
.catch Oops t0 t1 h
.end
.method static main 0 0
.locals 3
    new Acc
    dup
    iconst 0
    putfield Acc.total
    putstatic Main.acc
    ldc "Main.worker"
    iconst 10
    invokenative thread.start
    store 0
    ldc "Main.worker"
    iconst 20
    invokenative thread.start
    store 1
    ldc "Main.worker"
    iconst 30
    invokenative thread.start
    store 2
    load 0
    invokenative thread.join
    print
    load 1
    invokenative thread.join
    print
    load 2
    invokenative thread.join
    print
    ldc "total "
    getstatic Main.acc
    getfield Acc.total
    sconcat
    print
    return
.end
