; ticker.pasm — the default app: a persistent counter. Ticker.count lives in
; the VM heap (a static) and the thread sleeps in thread.sleep, whose wakeup
; time is in the thread (in the arena), so both come back from the last
; committed snapshot after any reboot. Prints "tick N" once a period: 1000 ms
; (phantomd --tick-ms rewrites the constant 1000L when it creates an image).
.class Ticker
.static count
.method static main 0 0
    getstatic Ticker.count
    ifnonnull loop
    iconst 0
    putstatic Ticker.count
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
