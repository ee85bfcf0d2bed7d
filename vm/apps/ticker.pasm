; ticker.pasm — the default app: a persistent counter. Ticker.count lives in
; the VM heap (a static) and the thread sleeps in thread.sleep, whose wakeup
; time is in the thread (in the arena), so both come back from the last
; committed snapshot after any reboot. Prints "tick N" once a period: 1000 ms
; (phantomd --tick-ms rewrites the constant 1000L when it creates an image).
; Ticker.main is the node's entry: on first boot it also starts the other
; default apps' threads, the object shell (shell.pasm) and the key-value
; service (kv.pasm); later boots resume all three where they were.
.class Ticker
.static count
.method static main 0 0
    getstatic Ticker.count
    ifnonnull loop
    iconst 0
    putstatic Ticker.count
    ldc "Shell.main"
    invokenative thread.start0
    pop
    ldc "Kv.main"
    invokenative thread.start0
    pop
loop:
    ldc 1000L
    invokenative thread.sleep
    getstatic Ticker.count
    iconst 1
    iadd
    dup
    putstatic Ticker.count
    ldc "tick "
    swap
    sconcat
    print
    goto loop
.end
