; bad_label.pasm — a branch to a label that does not exist.
.class Main
.method static main 0 0
    goto nowhere
.end
