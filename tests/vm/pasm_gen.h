/* pasm_gen.h — writes a random but always valid pasm program from a seed,
 * for the nursery's stress test (tests/unit/vm_young_stress_test.c). The
 * program prints one checksum line per piece of work and ends; what it
 * prints depends only on the seed, never on when collections run, where
 * objects live or how threads are scheduled.
 *
 * Shape: the helpers of pasm_gen_lib.h, then "mixer" classes Mk1, Mk2...,
 * then Main. A mixer's static run(arg) keeps an old array A (over 254
 * elements), a young array S, a current Cell, a list, a search tree,
 * statics and root-directory entries of its own, and loops a random body
 * of operations over them: stores of new and old values into A, S, Cells
 * and statics (ASTORE, PUTFIELD, PUTSTATIC into old and young objects),
 * list and tree growth and mutation, strings, boxed longs and doubles,
 * root.put/get/remove, nested monitors, exceptions thrown and caught,
 * garbage, yields, and commutative updates of the shared Lib.shared and
 * Lib.sl under Lib.lock. It returns a checksum of all of it (an int or a
 * young Cell holding it). Main runs mixers directly or as threads (with a
 * young argument or not), beside a producer/consumer pair, joins them in
 * a fixed order and prints each result; the runtime choices inside come
 * from an LCG seeded by the generator. */
#ifndef PHANTOM_TESTS_PASM_GEN_H
#define PHANTOM_TESTS_PASM_GEN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pasm_gen_lib.h"

struct pg_buf { char *p; size_t n, cap; };

static __attribute__((format(printf, 2, 3))) void pg_put(struct pg_buf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->n;
		int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			abort();
		if (b->p && (size_t)k < room) {
			b->n += (size_t)k;
			return;
		}
		b->cap = (b->cap + (size_t)k + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
}

struct pg {
	uint64_t rng;              /* splitmix64 state                      */
	struct pg_buf out;         /* the program                           */
	struct pg_buf catches;     /* the current method's .catch lines     */
	unsigned label;            /* labels L<n> of the current method      */
	unsigned cls;              /* the mixer being written: Mk<cls>       */
	unsigned nested;           /* monitor nesting of the op being written */
};

static uint64_t pg_next(struct pg *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned pg_below(struct pg *g, unsigned n) { return (unsigned)(pg_next(g) % n); }
static bool pg_chance(struct pg *g, unsigned pct) { return pg_below(g, 100) < pct; }

#define E(...) pg_put(&g->out, __VA_ARGS__)

/* Emit text with '@' written as the label prefix L<l> and '#' as the
 * mixer's number. */
static void pg_t(struct pg *g, unsigned l, const char *text)
{
	for (const char *p = text; *p; p++) {
		size_t n = strcspn(p, "@#");
		E("%.*s", (int)n, p);
		p += n;
		if (!*p)
			break;
		if (*p == '@')
			E("L%u", l);
		else
			E("%u", g->cls);
	}
}

/* Mixer locals: 0 arg, 1 i, 2 x (the LCG), 3 A, 4 S, 5 cur, 6 acc, 7 and
 * 9 scratch, 8 list head, 10-12 monitors held, 13-14 many monitors, 15-16
 * tree walk. */
#define PG_LOCALS 17

/* Push an index into the array in local `loc` from bits of x. */
static void pg_idx(struct pg *g, int loc)
{
	E(" load 2\n iconst %u\n iushr\n load %d\n arraylength\n irem\n", 1 + pg_below(g, 14), loc);
}

static void pg_lcg(struct pg *g)
{
	E(" load 2\n iconst 1103515245\n imul\n iaddi 12345\n store 2\n");
}

/* Push one value: an object old or young, new or reached, or a number. */
static void pg_value(struct pg *g)
{
	switch (pg_below(g, 12)) {
	case 0: E(" load 5\n"); break;
	case 1: case 2: {
		unsigned mix = pg_below(g, 1u << 20);
		E(" load 2\n iconst %u\n ixor\n iconst %u\n invokestatic Lib.mk\n", mix, pg_below(g, 3));
		break;
	}
	case 3: E(" load 4\n"); break;
	case 4: E(" load 3\n"); pg_idx(g, 3); E(" aload\n"); break;
	case 5: E(" getstatic Mk%u.g%u\n", g->cls, pg_below(g, 3)); break;
	case 6: E(" load 8\n"); break;
	case 7: E(" load 2\n iconst 11\n iushr\n iconst 31\n iand\n iaddi 1\n newarray\n"); break;
	case 8: E(" getstatic Mk%u.%s\n", g->cls, (const char *[]){ "bl", "s", "bd", "tr" }[pg_below(g, 4)]); break;
	case 9: E(" new Cell\n dup\n load 2\n putfield Cell.a\n"); break;
	case 10: E(" iconst %d\n", (int)pg_below(g, 2000) - 1000); break;
	default: E(" aconst_null\n"); break;
	}
}

static void pg_key(struct pg *g)
{
	E(" ldc \"k%u_\"\n load 2\n iconst 20\n iushr\n iconst 7\n iand\n ldc \"\"\n sconcat3\n", g->cls);
}

static void pg_hash_into_acc(struct pg *g, unsigned depth)
{
	E(" iconst %u\n invokestatic Lib.h\n load 6\n iconst 31\n imul\n iadd\n store 6\n", depth);
}

static void pg_op(struct pg *g);

/* Enter the monitors of cur and a static (or the same twice), run a few
 * operations, leave them in reverse order. */
static void pg_op_monitors(struct pg *g)
{
	unsigned lv = 10 + g->nested;
	g->nested++;
	if (pg_chance(g, 50))
		E(" load 5\n");
	else
		E(" getstatic Mk%u.g%u\n", g->cls, pg_below(g, 3));
	E(" dup\n store %u\n monitorenter\n", lv);
	bool again = pg_chance(g, 30);
	if (again)
		E(" load %u\n monitorenter\n", lv);           /* re-entered */
	for (unsigned k = 1 + pg_below(g, 3); k; k--)
		pg_op(g);
	E(" load %u\n monitorexit\n", lv);
	if (again)
		E(" load %u\n monitorexit\n", lv);
	g->nested--;
}

/* Hold k monitors of fresh young Cells at once (the table grows), make
 * garbage, release them last first. */
static void pg_op_many_monitors(struct pg *g)
{
	unsigned k = 2 + pg_below(g, 12), l = g->label++;
	E(" iconst %u\n newarray\n store 13\n iconst 0\n store 14\n", k);
	pg_t(g, l, "@e:\n load 13\n load 14\n new Cell\n astore\n load 13\n load 14\n aload\n monitorenter\n"
	     " iinc 14 1\n load 14\n load 13\n arraylength\n if_icmplt @e\n");
	E(" iconst %u\n invokestatic Lib.junk\n", 1 + pg_below(g, 60));
	pg_t(g, l, "@x:\n iinc 14 -1\n load 13\n load 14\n aload\n monitorexit\n load 14\n ifgt @x\n");
}

/* Call Lib.thr inside a try: MyErr (maybe stored into A) and any other
 * Throwable are caught and hashed. */
static void pg_op_throw(struct pg *g)
{
	unsigned l = g->label++;
	pg_t(g, l, "@s:\n load 2\n");
	pg_value(g);
	pg_t(g, l, " invokestatic Lib.thr\n@e:\n goto @a\n@m:\n");
	if (pg_chance(g, 50)) {
		E(" dup\n store 9\n load 3\n");
		pg_idx(g, 3);
		E(" load 9\n astore\n");
	}
	E(" getfield MyErr.pay\n");
	pg_hash_into_acc(g, 2);
	pg_t(g, l, " goto @a\n@b:\n getfield Throwable.message\n invokenative string.hash\n load 6\n ixor\n"
	     " store 6\n@a:\n");
	pg_put(&g->catches, ".catch MyErr L%us L%ue L%um\n.catch * L%us L%ue L%ub\n", l, l, l, l, l, l);
}

/* Insert a Tree with key and payload from x into the static tree. */
static void pg_op_tree_insert(struct pg *g)
{
	unsigned l = g->label++;
	E(" load 2\n iconst 12\n iushr\n iconst 4095\n iand\n store 9\n"
	  " new Tree\n dup\n load 9\n putfield Tree.k\n dup\n");
	pg_value(g);
	pg_t(g, l, " putfield Tree.pay\n store 7\n"
	     " getstatic Mk#.tr\n ifnonnull @w\n load 7\n putstatic Mk#.tr\n goto @d\n"
	     "@w:\n getstatic Mk#.tr\n store 15\n"
	     "@l:\n load 9\n load 15\n getfield Tree.k\n if_icmplt @gl\n"
	     " load 15\n getfield Tree.r\n ifnull @sr\n load 15\n getfield Tree.r\n store 15\n goto @l\n"
	     "@sr:\n load 15\n load 7\n putfield Tree.r\n goto @d\n"
	     "@gl:\n load 15\n getfield Tree.l\n ifnull @sl\n load 15\n getfield Tree.l\n store 15\n goto @l\n"
	     "@sl:\n load 15\n load 7\n putfield Tree.l\n@d:\n");
}

/* Walk the tree by bits of x and give the node reached a new payload. */
static void pg_op_tree_repay(struct pg *g)
{
	unsigned l = g->label++;
	pg_t(g, l, " getstatic Mk#.tr\n ifnull @d\n getstatic Mk#.tr\n store 15\n load 2\n iconst 7\n iushr\n"
	     " store 16\n@l:\n load 16\n iconst 1\n iand\n ifeq @r\n"
	     " load 15\n getfield Tree.l\n ifnull @s\n load 15\n getfield Tree.l\n store 15\n goto @n\n"
	     "@r:\n load 15\n getfield Tree.r\n ifnull @s\n load 15\n getfield Tree.r\n store 15\n"
	     "@n:\n load 16\n iconst 1\n iushr\n dup\n store 16\n ifne @l\n@s:\n load 15\n");
	pg_value(g);
	pg_t(g, l, " putfield Tree.pay\n@d:\n");
}

/* Walk k nodes down the static list and give that node a new payload. */
static void pg_op_list_repay(struct pg *g)
{
	unsigned l = g->label++;
	E(" iconst %u\n store 9\n", pg_below(g, 40));
	pg_t(g, l, " getstatic Mk#.ls\n store 7\n@w:\n load 7\n ifnull @d\n load 9\n ifeq @h\n"
	     " load 7\n getfield Node.next\n store 7\n iinc 9 -1\n goto @w\n@h:\n load 7\n");
	pg_value(g);
	pg_t(g, l, " putfield Node.pay\n@d:\n");
}

/* One stack-neutral operation on the mixer's state. */
static void pg_op(struct pg *g)
{
	unsigned c = g->cls, l;
	static const char *const field[] = { "a", "b", "c" };
	if (pg_chance(g, 30))
		pg_lcg(g);
	switch (pg_below(g, 31)) {
	case 0: case 1: case 2:                     /* A[i] = v: old array */
		E(" load 3\n");
		pg_idx(g, 3);
		pg_value(g);
		E(" astore\n");
		break;
	case 3: case 4:                             /* S[i] = v */
		E(" load 4\n");
		pg_idx(g, 4);
		pg_value(g);
		E(" astore\n");
		break;
	case 5: case 6:                             /* cur.f = v, a static's .f = v */
		if (pg_chance(g, 50))
			E(" load 5\n");
		else
			E(" getstatic Mk%u.g%u\n", c, pg_below(g, 3));
		pg_value(g);
		E(" putfield Cell.%s\n", field[pg_below(g, 3)]);
		break;
	case 7:                                     /* a static = cur or a new Cell */
		if (pg_chance(g, 50)) {
			E(" load 5\n");
		} else {
			E(" new Cell\n dup\n");
			pg_value(g);
			E(" putfield Cell.%s\n", field[pg_below(g, 3)]);
		}
		E(" putstatic Mk%u.g%u\n", c, pg_below(g, 3));
		break;
	case 8:                                     /* a new cur */
		E(" new Cell\n dup\n load 2\n putfield Cell.a\n dup\n");
		pg_value(g);
		E(" putfield Cell.b\n store 5\n");
		break;
	case 9:                                     /* cur = A[i] if a Cell */
		l = g->label++;
		E(" load 3\n");
		pg_idx(g, 3);
		pg_t(g, l, " aload\n dup\n instanceof Cell\n ifeq @n\n store 5\n goto @d\n@n:\n pop\n@d:\n");
		break;
	case 10:                                    /* S = A[i] if a non-empty array, or a new one */
		l = g->label++;
		if (pg_chance(g, 50)) {
			E(" load 3\n");
			pg_idx(g, 3);
			pg_t(g, l, " aload\n dup\n instanceof Array\n ifeq @n\n dup\n arraylength\n ifeq @n\n"
			     " store 4\n goto @d\n@n:\n pop\n@d:\n");
		} else {
			E(" load 2\n iconst 9\n iushr\n iconst %u\n irem\n iaddi 1\n newarray\n store 4\n",
			  1 + pg_below(g, 254));
		}
		break;
	case 11: case 12:                           /* push on the list */
		E(" new Node\n dup\n load 2\n putfield Node.v\n dup\n load 8\n putfield Node.next\n dup\n");
		pg_value(g);
		E(" putfield Node.pay\n store 8\n");
		if (pg_chance(g, 60))
			E(" load 8\n putstatic Mk%u.ls\n", c);
		break;
	case 13:                                    /* pop, or the static's list back */
		l = g->label++;
		if (pg_chance(g, 70))
			pg_t(g, l, " load 8\n ifnull @\n load 8\n getfield Node.next\n store 8\n@:\n");
		else
			E(" getstatic Mk%u.ls\n store 8\n", c);
		break;
	case 14: pg_op_list_repay(g); break;
	case 15: case 16:                           /* acc += h(v) */
		pg_value(g);
		pg_hash_into_acc(g, 1 + pg_below(g, 3));
		break;
	case 17:                                    /* garbage */
		E(" load 2\n iconst 25\n iushr\n iconst %u\n iand\n invokestatic Lib.junk\n",
		  (1u << (2 + pg_below(g, 5))) - 1);
		break;
	case 18:                                    /* s = s + x + "," (kept short) */
		l = g->label++;
		E(" getstatic Mk%u.s\n load 2\n iconst 255\n iand\n ldc \",\"\n %s\n store 7\n"
		  " load 7\n invokenative string.length\n iconst 300\n if_icmplt L%u\n ldc \"r\"\n store 7\n"
		  "L%u:\n load 7\n putstatic Mk%u.s\n", c, pg_chance(g, 80) ? "sconcat3" : "sconcat\n sconcat",
		  l, l, c);
		break;
	case 19:                                    /* root.put key v */
		pg_key(g);
		pg_value(g);
		E(" invokenative root.put\n");
		break;
	case 20:                                    /* acc += h(root.get key), root.remove key */
		pg_key(g);
		if (pg_chance(g, 70)) {
			E(" invokenative root.get\n");
			pg_hash_into_acc(g, 2);
		} else {
			E(" invokenative root.remove\n load 6\n iadd\n store 6\n");
		}
		break;
	case 21:                                    /* boxed longs and doubles */
		if (pg_chance(g, 50))
			E(" getstatic Mk%u.bl\n load 2\n i2l\n lmul\n ldc 1442695040888963407L\n ladd\n"
			  " putstatic Mk%u.bl\n", c, c);
		else
			E(" getstatic Mk%u.bd\n load 2\n iconst 1023\n iand\n i2d\n dadd\n ldc 0.75\n dmul\n"
			  " putstatic Mk%u.bd\n", c, c);
		break;
	case 22:                                    /* a new old array into A */
		E(" iconst %u\n newarray\n dup\n iconst 0\n", 255 + pg_below(g, 400));
		pg_value(g);
		E(" astore\n store 9\n load 3\n");
		pg_idx(g, 3);
		E(" load 9\n astore\n");
		break;
	case 23: pg_op_throw(g); break;
	case 24:
		if (g->nested < 3)
			pg_op_monitors(g);
		break;
	case 25: pg_op_many_monitors(g); break;
	case 26:                                    /* let the other threads run */
		if (pg_chance(g, 90))
			E(" invokenative thread.yield\n");
		else
			E(" iconst %u\n invokenative thread.sleep\n", pg_below(g, 3));
		break;
	case 27:                                    /* shared sum and list under Lib.lock */
		E(" getstatic Lib.lock\n monitorenter\n%s getstatic Lib.shared\n load 2\n iconst 20\n iushr\n iadd\n"
		  " putstatic Lib.shared\n", pg_chance(g, 30) ? " invokenative thread.yield\n" : "");
		if (pg_chance(g, 50)) {
			E(" new Node\n dup\n load 2\n iconst 16\n iushr\n putfield Node.v\n dup\n getstatic Lib.sl\n"
			  " putfield Node.next\n dup\n");
			pg_value(g);
			E(" putfield Node.pay\n putstatic Lib.sl\n");
		}
		E(" getstatic Lib.lock\n monitorexit\n");
		break;
	case 28: pg_op_tree_insert(g); break;
	case 29: pg_op_tree_repay(g); break;
	default: {                                  /* only sometimes, by x */
		unsigned sh = 3 + pg_below(g, 20);
		l = g->label++;
		E(" load 2\n iconst %u\n iushr\n iconst %u\n iand\n ifne L%u\n", sh, (1u << pg_below(g, 4)) - 1, l);
		pg_op(g);
		E("L%u:\n", l);
		break;
	}
	}
}

/* class Mk<c> with static run(arg) -> its checksum, at most 30 + most
 * rounds of its loop; a worker's may end in an uncaught MyErr instead
 * (its thread fails, join gives null). */
static void pg_mixer(struct pg *g, unsigned c, bool worker, unsigned most)
{
	g->cls = c;
	g->label = 0;
	g->nested = 0;
	g->catches.n = 0;
	unsigned iters = 30 + pg_below(g, most), ops = 2 + pg_below(g, 7);
	E(".class Mk%u\n.static g0 g1 g2 ls s bl bd tr\n.method static run 1 1\n.locals %u\n", c, PG_LOCALS);
	E(" iconst %u\n load 0\n iconst 2\n invokestatic Lib.h\n ixor\n store 2\n iconst 0\n store 6\n",
	  pg_below(g, 1u << 30));
	E(" iconst %u\n newarray\n store 3\n", 255 + pg_below(g, 600));
	E(" iconst %u\n newarray\n store 4\n new Cell\n store 5\n", 1 + pg_below(g, 254));
	for (int k = 0; k < 3; k++)
		E(" new Cell\n putstatic Mk%u.g%d\n", c, k);
	pg_t(g, 0, " aconst_null\n dup\n store 8\n putstatic Mk#.ls\n ldc \"\"\n putstatic Mk#.s\n iconst 1\n"
	     " putstatic Mk#.bl\n ldc 1.0\n putstatic Mk#.bd\n aconst_null\n putstatic Mk#.tr\n"
	     " iconst 0\n store 1\n");
	E("loop:\n");
	pg_lcg(g);
	for (unsigned k = 0; k < ops; k++)
		pg_op(g);
	E(" iinc 1 1\n load 1\n iconst %u\n if_icmplt loop\n", iters);
	/* The checksum: A whole, the rest to depth 3, the lists, the tree,
	 * the root-directory entries. */
	E(" iconst 0\n store 9\n"
	  "ck_a:\n load 3\n load 9\n aload\n");
	pg_hash_into_acc(g, 2);
	E(" iinc 9 1\n load 9\n load 3\n arraylength\n if_icmplt ck_a\n");
	static const char *const tail[] = { " load 0\n", " load 4\n", " load 5\n", " getstatic Mk#.g0\n",
		" getstatic Mk#.g1\n", " getstatic Mk#.g2\n", " getstatic Mk#.s\n",
		" getstatic Mk#.bl\n", " getstatic Mk#.bd\n" };
	for (unsigned k = 0; k < sizeof tail / sizeof *tail; k++) {
		pg_t(g, 0, tail[k]);
		pg_hash_into_acc(g, 3);
	}
	E(" getstatic Mk%u.ls\n store 7\n"
	  "ck_l0:\n load 7\n ifnull ck_d0\n load 7\n getfield Node.v\n load 7\n getfield Node.pay\n"
	  " iconst 1\n invokestatic Lib.h\n iadd\n load 6\n iconst 31\n imul\n iadd\n store 6\n"
	  " load 7\n getfield Node.next\n store 7\n goto ck_l0\nck_d0:\n", c);
	E(" load 8\n store 7\n"
	  "ck_l1:\n load 7\n ifnull ck_d1\n load 7\n getfield Node.v\n load 6\n iadd\n store 6\n"
	  " load 7\n getfield Node.next\n store 7\n goto ck_l1\nck_d1:\n");
	E(" getstatic Mk%u.tr\n invokestatic Lib.th\n load 6\n iconst 31\n imul\n iadd\n store 6\n", c);
	for (int k = 0; k < 8; k++) {
		E(" ldc \"k%u_%d\"\n invokenative root.get\n", c, k);
		pg_hash_into_acc(g, 2);
	}
	/* Drop what the next mixers need not keep (g0 stays: long-lived). */
	E(" aconst_null\n dup\n dup\n dup\n dup\n putstatic Mk%u.g1\n putstatic Mk%u.g2\n putstatic Mk%u.ls\n"
	  " putstatic Mk%u.tr\n putstatic Mk%u.s\n", c, c, c, c, c);
	if (worker && pg_chance(g, 15))
		E(" new MyErr\n dup\n new Cell\n dup\n load 6\n putfield Cell.a\n putfield MyErr.pay\n"
		  " dup\n ldc \"mine\"\n putfield Throwable.message\n throw\n");
	else if (pg_chance(g, 50))
		E(" new Cell\n dup\n load 6\n putfield Cell.a\n vreturn\n");
	else
		E(" load 6\n vreturn\n");
	E("%.*s.end\n", (int)g->catches.n, g->catches.p ? g->catches.p : "");
}

/* Main: fragments of direct mixer calls and thread groups, then the
 * shared results and the root directory's size. */
static char *pg_program(uint64_t seed, size_t *len)
{
	struct pg gg = { .rng = seed * 0x2545f4914f6cdd1dull + 1 }, *g = &gg;
	unsigned nfrag = 2 + pg_below(g, 3), nmix = 0, plan[4][3];
	bool worker[4 * 4 + 1];
	/* plan[f]: {workers, prod/cons items (0: none), worker args young?} */
	for (unsigned f = 0; f < nfrag; f++) {
		plan[f][0] = pg_chance(g, 60) ? pg_below(g, 4) : 0;
		plan[f][1] = pg_chance(g, 40) ? 1 + pg_below(g, 150) : 0;
		if (plan[f][1] && plan[f][0] > 2)
			plan[f][0] = 2;
		plan[f][2] = pg_below(g, 2);
		for (unsigned w = 0; w <= plan[f][0]; w++)
			worker[++nmix] = w < plan[f][0];
	}
	E("%s", pg_lib);
	for (unsigned c = 1; c <= nmix; c++)      /* a program's work is bounded */
		pg_mixer(g, c, worker[c], 1600 / nmix < 400 ? 1600 / nmix : 400);
	E(".class Main\n.method static main 0 0\n.locals 10\n"
	  " new Cell\n putstatic Lib.lock\n iconst 0\n putstatic Lib.shared\n aconst_null\n putstatic Lib.sl\n");
	unsigned c = 1;
	for (unsigned f = 0; f < nfrag; f++) {
		unsigned w0 = c;
		for (unsigned w = 0; w < plan[f][0]; w++, c++) {
			E(" ldc \"Mk%u.run\"\n iconst %u\n", c, pg_below(g, 100000));
			if (plan[f][2])
				E(" iconst 2\n invokestatic Lib.mk\n");
			E(" invokenative thread.start\n store %u\n", 1 + w);
		}
		if (plan[f][1]) {
			E(" new Box\n dup\n iconst 0\n putfield Box.full\n store 6\n");
			for (int k = 0; k < 2; k++)
				E(" ldc \"Lib.%s\"\n new Cell\n dup\n iconst %u\n putfield Cell.a\n dup\n load 6\n"
				  " putfield Cell.b\n invokenative thread.start\n store %d\n",
				  k ? "cons" : "prod", plan[f][1], 4 + k);
		}
		E(" ldc \"m%u \"\n iconst %u\n invokestatic Mk%u.run\n iconst 3\n invokestatic Lib.h\n"
		  " ldc \"\"\n sconcat3\n print\n", c, pg_below(g, 100000), c);
		c++;
		for (unsigned w = 0; w < plan[f][0]; w++)
			E(" ldc \"w%u \"\n load %u\n invokenative thread.join\n iconst 3\n invokestatic Lib.h\n"
			  " ldc \"\"\n sconcat3\n print\n", w0 + w, 1 + w);
		for (int k = 0; plan[f][1] && k < 2; k++)
			E(" ldc \"%s \"\n load %d\n invokenative thread.join\n iconst 3\n invokestatic Lib.h\n"
			  " ldc \"\"\n sconcat3\n print\n", k ? "cons" : "prod", 4 + k);
	}
	E(" ldc \"shared \"\n getstatic Lib.shared\n ldc \"\"\n sconcat3\n print\n"
	  " iconst 0\n store 7\n iconst 0\n store 9\n getstatic Lib.sl\n store 8\n"
	  "sl:\n load 8\n ifnull sd\n load 7\n load 8\n getfield Node.v\n iadd\n load 8\n getfield Node.pay\n"
	  " iconst 2\n invokestatic Lib.h\n iadd\n store 7\n iinc 9 1\n load 8\n getfield Node.next\n store 8\n"
	  " goto sl\nsd:\n ldc \"sl \"\n load 9\n ldc \" \"\n sconcat3\n load 7\n sconcat\n print\n"
	  " ldc \"dir \"\n invokenative root.list\n arraylength\n ldc \"\"\n sconcat3\n print\n return\n.end\n");
	free(g->catches.p);
	*len = g->out.n;
	return g->out.p;
}

#undef E
#endif
