; bad_superop_underflow.pasm — if_icmplti pops one value; the verifier
; refuses it on an empty stack.
.class Main
.method static main 0 0
top:
    if_icmplti top 3
    return
.end
