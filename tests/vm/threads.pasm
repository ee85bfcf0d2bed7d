; threads.pasm — VM threads: start with and without an argument, sleep
; ordering on the (test's fake) wall clock, join results, a monitor-guarded
; handoff with wait/notifyAll, and the persistent root directory.
.class Box
.field full val
.class Main
.static box
.method static sleeper 1 1
    load 0
    invokenative thread.sleep
    ldc "woke "
    load 0
    sconcat
    print
    load 0
    iconst 1
    iadd
    vreturn
.end
; take one value out of the box, waiting while it is empty
.method static taker 0 1
.locals 1
    getstatic Main.box
    monitorenter
w:
    getstatic Main.box
    getfield Box.full
    ifne got
    getstatic Main.box
    invokenative object.wait
    goto w
got:
    getstatic Main.box
    getfield Box.val
    store 0
    getstatic Main.box
    iconst 0
    putfield Box.full
    getstatic Main.box
    monitorexit
    load 0
    vreturn
.end
.method static main 0 0
.locals 3
    ldc "Main.sleeper"
    iconst 30
    invokenative thread.start
    store 0
    ldc "Main.sleeper"
    iconst 10
    invokenative thread.start
    store 1
    load 0
    invokenative thread.join
    load 1
    invokenative thread.join
    iadd
    print                          ; 31 + 11
    new Box
    dup
    iconst 0
    putfield Box.full
    putstatic Main.box
    ldc "Main.taker"
    invokenative thread.start0
    store 2
    invokenative thread.yield      ; let the taker wait
    getstatic Main.box
    monitorenter
    getstatic Main.box
    ldc "handed over"
    putfield Box.val
    getstatic Main.box
    iconst 1
    putfield Box.full
    getstatic Main.box
    invokenative object.notifyAll
    getstatic Main.box
    monitorexit
    load 2
    invokenative thread.join
    print
    ldc "answer"
    iconst 42
    invokenative root.put
    ldc "answer"
    invokenative root.get
    print
    invokenative root.list
    arraylength
    print
    ldc "answer"
    invokenative root.remove
    print
    ldc "answer"
    invokenative root.get
    print
    return
.end
