; bad_superop.pasm — the verifier checks a superinstruction's local index.
.class Main
.method static main 0 0
.locals 2
    iaddll 0 2
    print
    return
.end
