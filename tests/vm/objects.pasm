; objects.pasm — classes, inheritance, virtual and interface dispatch,
; instance and static fields, constructors via invokespecial, instanceof.
.class interface Shape
.method abstract area 1 1
.end
.class Rect implements Shape
.field w h
.method init 3 0
    load 0
    load 1
    putfield Rect.w
    load 0
    load 2
    putfield Rect.h
    return
.end
.method area 1 1
    load 0
    getfield Rect.w
    load 0
    getfield Rect.h
    imul
    vreturn
.end
.method name 1 1
    ldc "rect"
    vreturn
.end
.class Square extends Rect
.static count
.method init 2 0
    load 0
    load 1
    load 1
    invokespecial Rect.init
    getstatic Square.count
    ifnonnull have
    iconst 0
    putstatic Square.count
have:
    getstatic Square.count
    iconst 1
    iadd
    putstatic Square.count
    return
.end
.method name 1 1
    ldc "square"
    vreturn
.end
.class Main
.method static make 2 1
.locals 3
    new Rect
    store 2
    load 2
    load 0
    load 1
    invokespecial Rect.init
    load 2
    vreturn
.end
.method static main 0 0
.locals 2
    iconst 3
    iconst 4
    invokestatic Main.make
    store 0
    new Square
    store 1
    load 1
    iconst 5
    invokespecial Square.init
    load 0
    invokevirtual Rect.name
    print
    load 1
    invokevirtual Rect.name        ; dispatches to Square.name
    print
    load 0
    invokeinterface Shape.area
    print
    load 1
    invokeinterface Shape.area
    print
    new Square
    iconst 2
    invokespecial Square.init
    getstatic Square.count
    print
    load 1
    instanceof Rect
    print
    load 0
    instanceof Square
    print
    iconst 7
    instanceof Shape
    print
    load 0
    checkcast Square               ; fails: ClassCastException escapes
    return
.end
