; bad_operand.pasm — an assembler error must name the file and line.
.class Main
.method static main 0 0
    iconst
    return
.end
