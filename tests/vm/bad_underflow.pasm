; bad_underflow.pasm — the verifier's complaint maps back to the line.
.class Main
.method static main 0 0
    iconst 1
    iadd
    return
.end
