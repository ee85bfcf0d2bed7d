/* pasm_gen_lib.h — the fixed part of every program pasm_gen.h writes: the
 * classes the generated code uses and class Lib, the helpers it calls.
 * Lib.h hashes any value to depth d (ints, strings, boxed longs and
 * doubles, arrays sampled at 8 points, Cells, Nodes, MyErrs; never an
 * address), so checksums do not depend on where objects live; Lib.th a
 * binary search tree of Trees in order. Lib.mk
 * builds a value of a kind picked from x: an int, a young string, Long or
 * Double box, a Cell, a small array, a Node, or a Cell holding an array
 * of Cells. Lib.junk makes n rounds of garbage; Lib.thr throws (or not) by
 * x: a MyErr carrying v, an ArithmeticException, a MyErr from two frames
 * down through a catch-all that rethrows, an index or a null error.
 * Lib.prod and Lib.cons hand values through a one-slot Box with
 * wait/notifyAll; the consumer's result is a Cell holding its checksum.
 * Lib.lock, Lib.shared and Lib.sl are the only state threads share: a
 * sum and a list whose order varies but whose checksum does not. */
#ifndef PHANTOM_TESTS_PASM_GEN_LIB_H
#define PHANTOM_TESTS_PASM_GEN_LIB_H

static const char pg_lib[] =
	".class Cell\n.field a b c\n"
	".class Node\n.field v next pay\n"
	".class MyErr extends Throwable\n.field pay\n"
	".class Box\n.field full val\n"
	".class Tree\n.field k l r pay\n"
	".class Lib\n.static lock shared sl\n"
	/* h(v, d) -> int */
	".method static h 2 1\n.locals 5\n"
	" load 0\n ifnonnull h_nn\n iconst 7\n vreturn\n"
	"h_nn:\n load 0\n instanceof Int\n ifeq h_ni\n load 0\n l2i\n vreturn\n"
	"h_ni:\n load 0\n instanceof String\n ifeq h_ns\n load 0\n invokenative string.hash\n vreturn\n"
	"h_ns:\n load 0\n instanceof Long\n ifeq h_nl\n"
	" load 0\n load 0\n iconst 32\n lushr\n lxor\n l2i\n vreturn\n"
	"h_nl:\n load 0\n instanceof Double\n ifeq h_nd\n load 0\n ldc 1000.0\n dmul\n d2i\n vreturn\n"
	"h_nd:\n load 1\n ifgt h_deep\n iconst 11\n vreturn\n"
	"h_deep:\n load 0\n instanceof Array\n ifeq h_na\n"
	" load 0\n arraylength\n dup\n store 2\n store 3\n iconst 0\n store 4\n"
	"h_al:\n load 4\n load 2\n if_icmpge h_ad\n"
	" load 3\n iconst 31\n imul\n load 0\n load 4\n aload\n load 1\n iconst 1\n isub\n"
	" invokestatic Lib.h\n iadd\n store 3\n"
	" load 4\n load 2\n iconst 8\n idiv\n iadd\n iaddi 1\n store 4\n goto h_al\n"
	"h_ad:\n load 3\n vreturn\n"
	"h_na:\n load 0\n instanceof Cell\n ifeq h_nc\n"
	" load 0\n getfield Cell.a\n load 1\n iconst 1\n isub\n invokestatic Lib.h\n iconst 31\n imul\n"
	" load 0\n getfield Cell.b\n load 1\n iconst 1\n isub\n invokestatic Lib.h\n iadd\n iconst 31\n imul\n"
	" load 0\n getfield Cell.c\n load 1\n iconst 1\n isub\n invokestatic Lib.h\n iadd\n vreturn\n"
	"h_nc:\n load 0\n instanceof Node\n ifeq h_nnode\n"
	" load 0\n getfield Node.v\n"
	" load 0\n getfield Node.pay\n load 1\n iconst 1\n isub\n invokestatic Lib.h\n iconst 17\n imul\n iadd\n"
	" load 0\n getfield Node.next\n load 1\n iconst 1\n isub\n invokestatic Lib.h\n iconst 31\n imul\n iadd\n"
	" vreturn\n"
	"h_nnode:\n load 0\n instanceof MyErr\n ifeq h_ne\n"
	" load 0\n getfield MyErr.pay\n load 1\n iconst 1\n isub\n invokestatic Lib.h\n iaddi 5\n vreturn\n"
	"h_ne:\n iconst 13\n vreturn\n.end\n"
	/* mk(x, d) -> a value; depth 0 makes leaves only */
	".method static mk 2 1\n.locals 5\n"
	" load 0\n iconst 2147483647\n iand\n store 0\n"
	" load 0\n iconst 3\n iushr\n iconst 8\n irem\n store 2\n"
	" load 1\n ifgt mk_0\n load 2\n iconst 4\n irem\n store 2\n"
	"mk_0:\n load 2\n ifne mk_1\n load 0\n vreturn\n"
	"mk_1:\n load 2\n iconst 1\n if_icmpne mk_2\n"
	" load 0\n iconst 256\n iand\n ifeq mk_1b\n ldc \"s\"\n load 0\n sconcat\n vreturn\n"
	"mk_1b:\n ldc \"t\"\n load 0\n iconst 1023\n iand\n ldc \".\"\n sconcat3\n vreturn\n"
	"mk_2:\n load 2\n iconst 2\n if_icmpne mk_3\n"
	" load 0\n i2l\n ldc 4611686018427387904L\n lxor\n vreturn\n"
	"mk_3:\n load 2\n iconst 3\n if_icmpne mk_4\n"
	" load 0\n iconst 4095\n iand\n i2d\n ldc 0.125\n dmul\n vreturn\n"
	"mk_4:\n load 2\n iconst 4\n if_icmpne mk_5\n"
	" new Cell\n store 3\n load 3\n load 0\n putfield Cell.a\n"
	" load 3\n load 0\n iconst 7\n imul\n iaddi 1\n load 1\n iconst 1\n isub\n invokestatic Lib.mk\n"
	" putfield Cell.b\n"
	" load 0\n iconst 16\n iand\n ifeq mk_4b\n"
	" load 3\n load 0\n iconst 13\n imul\n iaddi 5\n load 1\n iconst 1\n isub\n invokestatic Lib.mk\n"
	" putfield Cell.c\n"
	"mk_4b:\n load 3\n vreturn\n"
	"mk_5:\n load 2\n iconst 5\n if_icmpne mk_6\n"
	" load 0\n iconst 6\n iushr\n iconst 24\n irem\n iaddi 1\n newarray\n store 3\n iconst 0\n store 4\n"
	"mk_5l:\n load 4\n iconst 3\n iand\n ifne mk_5i\n"
	" load 3\n load 4\n load 0\n load 4\n iconst 97\n imul\n iadd\n load 1\n iconst 1\n isub\n"
	" invokestatic Lib.mk\n astore\n goto mk_5n\n"
	"mk_5i:\n load 3\n load 4\n load 0\n load 4\n iadd\n astore\n"
	"mk_5n:\n iinc 4 1\n load 4\n load 3\n arraylength\n if_icmplt mk_5l\n load 3\n vreturn\n"
	"mk_6:\n load 2\n iconst 6\n if_icmpne mk_7\n"
	" new Node\n dup\n load 0\n putfield Node.v\n dup\n"
	" load 0\n iconst 5\n imul\n iaddi 3\n load 1\n iconst 1\n isub\n invokestatic Lib.mk\n putfield Node.pay\n"
	" vreturn\n"
	"mk_7:\n new Cell\n store 3\n load 0\n iconst 3\n iand\n iaddi 1\n newarray\n store 4\n"
	" load 4\n iconst 0\n new Cell\n dup\n load 0\n putfield Cell.a\n astore\n"
	" load 3\n load 4\n putfield Cell.a\n"
	" load 3\n ldc \"c7\"\n load 0\n iconst 63\n iand\n ldc \"\"\n sconcat3\n putfield Cell.b\n"
	" load 3\n load 0\n putfield Cell.c\n load 3\n vreturn\n.end\n"
	/* th(t): a binary tree's in-order checksum */
	".method static th 1 1\n load 0\n ifnonnull th_go\n iconst 1\n vreturn\n"
	"th_go:\n load 0\n getfield Tree.l\n invokestatic Lib.th\n iconst 31\n imul\n"
	" load 0\n getfield Tree.k\n iadd\n load 0\n getfield Tree.pay\n iconst 1\n invokestatic Lib.h\n iadd\n"
	" iconst 31\n imul\n load 0\n getfield Tree.r\n invokestatic Lib.th\n iadd\n vreturn\n.end\n"
	/* junk(n): garbage of every young kind */
	".method static junk 1 0\n.locals 3\n iconst 0\n store 1\n"
	"j_l:\n load 1\n load 0\n if_icmpge j_d\n"
	" new Cell\n dup\n load 1\n putfield Cell.a\n store 2\n"
	" load 1\n iconst 7\n iand\n iaddi 1\n newarray\n iconst 0\n load 2\n astore\n"
	" ldc \"j\"\n load 1\n ldc \"\"\n sconcat3\n pop\n"
	" load 1\n i2d\n ldc 1.5\n dmul\n pop\n"
	" load 1\n iconst 3\n iand\n ifne j_n\n load 1\n iconst 1\n invokestatic Lib.mk\n pop\n"
	"j_n:\n iinc 1 1\n goto j_l\n"
	"j_d:\n return\n.end\n"
	/* thr(x, v) */
	".method static thr 2 0\n.locals 3\n"
	" load 0\n iconst 5\n iushr\n iconst 6\n irem\n store 2\n"
	" load 2\n ifne t_1\n"
	" new MyErr\n dup\n load 1\n putfield MyErr.pay\n dup\n ldc \"mine\"\n putfield Throwable.message\n throw\n"
	"t_1:\n load 2\n iconst 1\n if_icmpne t_2\n load 0\n iconst 0\n idiv\n pop\n return\n"
	"t_2:\n load 2\n iconst 2\n if_icmpne t_3\n load 0\n load 1\n invokestatic Lib.thr2\n return\n"
	"t_3:\n load 2\n iconst 3\n if_icmpne t_4\n iconst 3\n newarray\n iconst 5\n aload\n pop\n return\n"
	"t_4:\n load 2\n iconst 4\n if_icmpne t_5\n aconst_null\n getfield Cell.a\n pop\n return\n"
	"t_5:\n return\n.end\n"
	".method static thr2 2 0\n.locals 3\n"
	"s2:\n new MyErr\n dup\n new Cell\n dup\n load 1\n putfield Cell.a\n"
	" dup\n load 0\n iconst 2\n invokestatic Lib.mk\n putfield Cell.b\n putfield MyErr.pay\n throw\n"
	"e2:\n store 2\n iconst 20\n invokestatic Lib.junk\n load 2\n throw\n"
	".catch * s2 e2 e2\n.end\n"
	/* prod(c): c.a values through box c.b; returns c.a */
	".method static prod 1 1\n.locals 4\n"
	" load 0\n getfield Cell.b\n store 1\n load 0\n getfield Cell.a\n store 2\n iconst 0\n store 3\n"
	"p_l:\n load 3\n load 2\n if_icmpge p_d\n load 1\n monitorenter\n"
	"p_w:\n load 1\n getfield Box.full\n ifeq p_put\n load 1\n invokenative object.wait\n goto p_w\n"
	"p_put:\n load 1\n load 3\n iconst 40503\n imul\n iconst 2\n invokestatic Lib.mk\n putfield Box.val\n"
	" load 1\n iconst 1\n putfield Box.full\n load 1\n invokenative object.notifyAll\n load 1\n monitorexit\n"
	" load 3\n iconst 15\n iand\n invokestatic Lib.junk\n iinc 3 1\n goto p_l\n"
	"p_d:\n load 2\n vreturn\n.end\n"
	/* cons(c): takes c.a values from box c.b; returns a Cell of their hash */
	".method static cons 1 1\n.locals 5\n"
	" load 0\n getfield Cell.b\n store 1\n load 0\n getfield Cell.a\n store 2\n"
	" iconst 0\n store 3\n iconst 0\n store 4\n"
	"c_l:\n load 3\n load 2\n if_icmpge c_d\n load 1\n monitorenter\n"
	"c_w:\n load 1\n getfield Box.full\n ifne c_g\n load 1\n invokenative object.wait\n goto c_w\n"
	"c_g:\n load 4\n iconst 31\n imul\n load 1\n getfield Box.val\n iconst 3\n invokestatic Lib.h\n"
	" iadd\n store 4\n"
	" load 1\n iconst 0\n putfield Box.full\n load 1\n invokenative object.notifyAll\n load 1\n monitorexit\n"
	" iinc 3 1\n goto c_l\n"
	"c_d:\n new Cell\n dup\n load 4\n putfield Cell.a\n vreturn\n.end\n";

#endif
