/* vm_young_test.c — the nursery (vm/young.c). Every test runs with
 * young_verify on: after each minor collection the VM walks the heap, the
 * stacks and the roots and panics on any reference left pointing into the
 * nursery, which is then filled with junk, so a store that skipped the
 * remembered set, or a root not forwarded, fails loudly. The tests check
 * what survives (values read back), what does not (garbage never reaches
 * the heap), collections in the middle of a run, the remembered set's
 * overflow walk, a marking cycle running across minor collections, and
 * that a remembered slot of an object that died is not followed. */
#include "../vm/vmtest.h"

/* A list of every 7th cell (a local), every 11th cell in an old array
 * (ASTORE into an old object), the head in a static (PUTSTATIC), boxed
 * longs in a field; returns the sum of everything reachable. */
static const char *keep_prog =
	".class Cell\n.field v next\n"
	".class Main\n.static keep\n"
	".method static main 0 1\n.locals 6\n"
	" iconst 300\n newarray\n store 0\n"          /* 302 words: old */
	" aconst_null\n store 1\n iconst 0\n store 2\n"
	"loop:\n"
	" new Cell\n dup\n load 2\n putfield Cell.v\n store 3\n"
	" load 2\n iconst 7\n irem\n ifne no7\n"
	" load 3\n load 1\n putfield Cell.next\n load 3\n store 1\n"
	"no7:\n"
	" load 2\n iconst 11\n irem\n ifne no11\n"
	" load 0\n load 2\n iconst 300\n irem\n load 3\n astore\n"
	"no11:\n"
	" load 1\n putstatic Main.keep\n"
	" iinc 2 1\n load 2\n iconst 200000\n if_icmplt loop\n"
	/* sum the list (from the static) and the array */
	" iconst 0\n store 4\n getstatic Main.keep\n store 1\n"
	"sum:\n load 1\n ifnull arr\n"
	" load 4\n load 1\n getfield Cell.v\n iadd\n store 4\n"
	" load 1\n getfield Cell.next\n store 1\n goto sum\n"
	"arr:\n iconst 0\n store 2\n"
	"asum:\n load 0\n load 2\n aload\n store 3\n"
	" load 4\n load 3\n getfield Cell.v\n iadd\n store 4\n"
	" iinc 2 1\n load 2\n iconst 300\n if_icmplt asum\n"
	" load 4\n vreturn\n.end\n";

static int32_t keep_expected(void)
{
	uint32_t sum = 0;
	int32_t arr[300];
	for (int32_t i = 0; i < 200000; i++) {
		if (i % 7 == 0)
			sum += (uint32_t)i;
		if (i % 11 == 0)
			arr[i % 300] = i;
	}
	for (int k = 0; k < 300; k++)
		sum += (uint32_t)arr[k];
	return (int32_t)sum;
}

static int boot(struct vm_ctx *ctx, const char *prog, uint64_t young, uint32_t *id, char *err, size_t en)
{
	vt_young_bytes = young;
	return vt_boot(ctx, prog, true, id, err, en);
}

/* One uninterrupted run (budget 0): the nursery fills many times and is
 * emptied at a poll each time; everything kept reads back. */
TEST(survivors_keep_their_values_across_collections_mid_run)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, keep_prog, 0, &id, err, sizeof err) == 0, "%s", err);
	void *lo;
	size_t len;
	vm_young_range(&ctx, &lo, &len);
	CHECKF(len == VT_REGION / 16, "nursery of %zu bytes", len);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), keep_expected());
	/* 200 000 cells of 4 words went through a 512 KiB nursery. */
	CHECKF(vm_young_collections(&ctx) >= 10, "%llu minor collections",
	       (unsigned long long)vm_young_collections(&ctx));
	/* Promoted: about the kept cells (1/7, plus the array's), not the rest. */
	uint64_t kept = 200000 / 7 + 200000 / 11;
	CHECKF(vm_young_promoted_words(&ctx) <= 4 * kept + 4 * 300 + 4096,
	       "%llu words promoted for %llu kept cells",
	       (unsigned long long)vm_young_promoted_words(&ctx), (unsigned long long)kept);
	CHECKF(vm_young_promoted_words(&ctx) >= 4 * 200000 / 7,
	       "%llu words promoted", (unsigned long long)vm_young_promoted_words(&ctx));
}

/* The same program with tiny budgets: a collection every time the host
 * gets control back, and a restore (the region copied, the nursery
 * junk-filled, as a volatile range reads after a reboot) in between. */
TEST(host_always_sees_an_empty_nursery)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, keep_prog, 0, &id, err, sizeof err) == 0, "%s", err);
	int rc, rounds = 0;
	while ((rc = vm_run(&ctx, id, 997)) == VM_RUN_STOPPED) {
		CHECK(ctx.root->young_top == ctx.root->young_lo);
		if (++rounds % 50 == 0)
			CHECKF(vt_restore(&ctx) == 0, "%s", ctx.err);
	}
	CHECK_EQ(rc, VM_RUN_DONE);
	CHECKF(rounds > 200, "%d rounds", rounds);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), keep_expected());
}

/* Short-lived objects never reach the heap: a million cells, one kept. */
static const char *churn_prog =
	".class Cell\n.field v next\n"
	".class Main\n"
	".method static main 0 1\n.locals 3\n"
	" iconst 0\n store 0\n"
	"loop:\n new Cell\n dup\n load 0\n putfield Cell.v\n store 1\n"
	" iinc 0 1\n load 0\n iconst 1000000\n if_icmplt loop\n"
	" load 1\n getfield Cell.v\n vreturn\n.end\n";

TEST(garbage_never_reaches_the_heap)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, churn_prog, 0, &id, err, sizeof err) == 0, "%s", err);
	uint64_t bump = ctx.root->bump;
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), 999999);
	CHECKF(ctx.root->bump - bump < 64 * 1024, "the heap grew by %llu bytes for 32 MB of garbage",
	       (unsigned long long)(ctx.root->bump - bump));
	CHECK(vm_young_collections(&ctx) >= 50);
	/* Without a nursery the same program fills the heap's free memory. */
	CHECKF(boot(&ctx, churn_prog, VM_YOUNG_NONE, &id, err, sizeof err) == 0, "%s", err);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	CHECK_EQ(vm_young_collections(&ctx), 0);
	CHECK(ctx.root->alloc_words + ctx.root->gc_count > 0);
}

/* One young cell stored into 20 000 slots of old arrays: 320 KB of
 * remembered pairs overflow a 64 KiB nursery, and the collection walks
 * the heap instead; every slot then holds the one promoted cell. */
static const char *overflow_prog =
	".class Cell\n.field v\n"
	".class Main\n"
	".method static main 0 1\n.locals 4\n"
	" iconst 20000\n newarray\n store 0\n"
	" new Cell\n dup\n iconst 77\n putfield Cell.v\n store 1\n"
	" iconst 0\n store 2\n"
	"loop:\n load 0\n load 2\n load 1\n astore\n"
	" iinc 2 1\n load 2\n iconst 20000\n if_icmplt loop\n"
	" iconst 0\n store 2\n iconst 0\n store 3\n"
	"chk:\n load 0\n load 2\n aload\n load 1\n if_acmpne bad\n"
	" load 3\n load 0\n load 2\n aload\n getfield Cell.v\n iadd\n store 3\n"
	" iinc 2 1\n load 2\n iconst 20000\n if_icmplt chk\n"
	" load 3\n vreturn\n"
	"bad:\n iconst -1\n vreturn\n.end\n";

TEST(remembered_set_overflow_walks_the_heap)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, overflow_prog, 65536, &id, err, sizeof err) == 0, "%s", err);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), 77 * 20000);
	CHECKF(ctx.root->young_walks >= 1, "%u heap walks", ctx.root->young_walks);
}

/* A marking cycle always running in tiny steps while the program keeps
 * replacing the cells of an old array with young ones: the snapshot
 * barrier, the nursery as the cycle's root and survivors born black must
 * together keep every reachable cell. */
static const char *replace_prog =
	".class Cell\n.field v\n"
	".class Main\n"
	".method static main 0 1\n.locals 5\n"
	" iconst 1000\n newarray\n store 0\n iconst 0\n store 1\n"
	"loop:\n new Cell\n dup\n load 1\n putfield Cell.v\n store 2\n"
	" load 0\n load 1\n iconst 1000\n irem\n load 2\n astore\n"
	" iconst 300\n newarray\n pop\n"             /* old garbage: the cycle runs */
	" iinc 1 1\n load 1\n iconst 30000\n if_icmplt loop\n"
	" iconst 0\n store 3\n iconst 0\n store 4\n"
	"sum:\n load 4\n load 0\n load 3\n aload\n getfield Cell.v\n iadd\n store 4\n"
	" iinc 3 1\n load 3\n iconst 1000\n if_icmplt sum\n"
	" load 4\n vreturn\n.end\n";

TEST(marking_cycles_across_minor_collections)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, replace_prog, 65536, &id, err, sizeof err) == 0, "%s", err);
	vm_gc_incremental_stress(&ctx, true);
	int rc;
	while ((rc = vm_run(&ctx, id, 101)) == VM_RUN_STOPPED)
		;
	CHECK_EQ(rc, VM_RUN_DONE);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	int64_t want = 0;
	for (int i = 29000; i < 30000; i++)
		want += i;
	CHECK_EQ(vm_fix_val(v), want);
	CHECK(vm_gc_cycles(&ctx) > 10);
	CHECK(vm_young_collections(&ctx) > 10);
}

/* A young cell is stored into an old array, which then dies; a full
 * collection (stress mode: at the next old allocation) frees the array
 * before any safepoint. Its remembered slot must be dropped, not followed
 * into freed memory: the cell is garbage and nothing is promoted. */
static const char *dead_prog =
	".class Cell\n.field v\n"
	".class Main\n"
	".method static main 0 0\n.locals 2\n"
	" iconst 300\n newarray\n store 0\n"
	" iconst 260\n newarray\n store 1\n"           /* keeps the first off the bump end */
	" load 0\n iconst 5\n new Cell\n astore\n"
	" aconst_null\n store 0\n"
	" iconst 400\n newarray\n pop\n"               /* collects: the first array dies */
	" return\n.end\n";

TEST(a_dead_objects_remembered_slot_is_dropped)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, dead_prog, 0, &id, err, sizeof err) == 0, "%s", err);
	vm_gc_stress(&ctx, true);
	uint64_t before = vm_young_promoted_words(&ctx);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	CHECK(vm_young_collections(&ctx) >= 1);
	CHECKF(vm_young_promoted_words(&ctx) == before, "%llu words promoted",
	       (unsigned long long)(vm_young_promoted_words(&ctx) - before));
}

/* A young object's monitor is held across minor collections: the monitor
 * table (a root) must follow it, or monitorexit finds no such monitor. */
static const char *monitor_prog =
	".class Cell\n.field v\n"
	".class Main\n"
	".method static main 0 1\n.locals 2\n"
	" new Cell\n dup\n store 0\n monitorenter\n"
	" iconst 0\n store 1\n"
	"loop:\n new Cell\n pop\n iinc 1 1\n load 1\n iconst 100000\n if_icmplt loop\n"
	" load 0\n monitorexit\n iconst 1\n vreturn\n.end\n";

TEST(a_held_monitor_follows_its_young_object)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, monitor_prog, 65536, &id, err, sizeof err) == 0, "%s", err);
	CHECKF(vm_run(&ctx, id, 0) == VM_RUN_DONE, "%s", ctx.err);
	CHECK(vm_young_collections(&ctx) >= 10);
}

/* An old array reachable only through a young cell when a full
 * collection runs (stress mode, at an old allocation, no safepoint in
 * between): the nursery is the cycle's root, so the array survives and
 * its block is not handed to the next array of its size. */
static const char *young_only_prog =
	".class Cell\n.field v\n"
	".class Main\n"
	".method static main 0 1\n.locals 1\n"
	" new Cell\n dup\n iconst 300\n newarray\n putfield Cell.v\n store 0\n"
	" load 0\n getfield Cell.v\n iconst 7\n iconst 42\n astore\n"
	" iconst 260\n newarray\n pop\n"               /* collects */
	" iconst 300\n newarray\n pop\n"               /* would reuse a freed array */
	" load 0\n getfield Cell.v\n iconst 7\n aload\n vreturn\n.end\n";

TEST(the_nursery_is_a_root_of_a_full_collection)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, young_only_prog, 0, &id, err, sizeof err) == 0, "%s", err);
	vm_gc_stress(&ctx, true);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), 42);
}

/* Nine young objects' monitors held at once grow the monitor table past
 * its first 8 entries; the old table must not keep references that the
 * next minor collection leaves stale (young_verify walks the heap, the
 * old table included, and panics on one). */
static const char *montab_prog =
	".class Cell\n.field v\n"
	".class Main\n"
	".method static main 0 1\n.locals 10\n"
#define HOLD(k) " new Cell\n dup\n store " #k "\n monitorenter\n"
#define DROP(k) " load " #k "\n monitorexit\n"
	HOLD(0) HOLD(1) HOLD(2) HOLD(3) HOLD(4) HOLD(5) HOLD(6) HOLD(7) HOLD(8)
	" iconst 0\n store 9\n"
	"loop:\n new Cell\n pop\n iinc 9 1\n load 9\n iconst 100000\n if_icmplt loop\n"
	DROP(0) DROP(1) DROP(2) DROP(3) DROP(4) DROP(5) DROP(6) DROP(7) DROP(8)
	" iconst 1\n vreturn\n.end\n";

TEST(a_grown_monitor_table_leaves_no_young_reference_behind)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(boot(&ctx, montab_prog, 65536, &id, err, sizeof err) == 0, "%s", err);
	CHECKF(vm_run(&ctx, id, 0) == VM_RUN_DONE, "%s", ctx.err);
	CHECK(vm_young_collections(&ctx) >= 10);
}

/* The heap is filled with live arrays until ~200 KiB stay free, then
 * young garbage piles up, then a 160 KB array is made: the nursery's
 * reserve must not make that an OutOfMemoryError while the nursery holds
 * only garbage (the failed allocation empties it and runs again). */
static char oom_prog[2048];

static int near_full(uint64_t young, int churn, char *err, size_t en)
{
	struct vm_ctx ctx;
	uint32_t id;
	vt_young_bytes = young;
	if (vt_boot(&ctx, ".class Main\n.method static main 0 0\n return\n.end\n", true, &id, err, en))
		return -1;
	uint64_t n = (ctx.root->heap_hi - ctx.root->bump - 200 * 1024) / (302 * 8) - 2;
	snprintf(oom_prog, sizeof oom_prog,
		 ".class Main\n.static keep big\n"
		 ".method static main 0 1\n.locals 4\n"
		 " iconst %llu\n newarray\n dup\n putstatic Main.keep\n store 0\n"
		 " iconst 0\n store 1\n"
		 "fill:\n load 0\n load 1\n iconst 300\n newarray\n astore\n"
		 " iinc 1 1\n load 1\n iconst %llu\n if_icmplt fill\n"
		 " iconst 0\n store 1\n"
		 "churn:\n load 1\n iconst %d\n if_icmpge done\n iconst 250\n newarray\n pop\n"
		 " iinc 1 1\n goto churn\n"
		 "done:\n iconst 20000\n newarray\n putstatic Main.big\n"
		 " iconst 1\n vreturn\n.end\n",
		 (unsigned long long)n, (unsigned long long)n, churn);
	if (vt_boot(&ctx, oom_prog, true, &id, err, en))
		return -1;
	int rc = vm_run(&ctx, id, 0);
	snprintf(err, en, "%s", ctx.err);
	return rc;
}

TEST(young_garbage_never_makes_an_out_of_memory)
{
	char err[512];
	for (int churn = 0; churn <= 400; churn += 100) {
		CHECKF(near_full(VM_YOUNG_NONE, churn, err, sizeof err) == VM_RUN_DONE,
		       "without a nursery, churn %d: %s", churn, err);
		CHECKF(near_full(0, churn, err, sizeof err) == VM_RUN_DONE,
		       "with a nursery, churn %d: %s", churn, err);
	}
}

/* A region without a nursery (too small for one, or none asked for)
 * whose end is not page aligned still attaches: the empty range sits at
 * the region's very end, after the bitmap. */
TEST(regions_without_a_nursery_attach_at_any_size)
{
	static const size_t sizes[] = { 523288, 300000, 1052576 };
	for (unsigned i = 0; i < 3; i++)
		for (int none = 0; none < 2; none++) {
			struct vm_ctx ctx;
			memset(&ctx, 0, sizeof ctx);
			ctx.young_bytes = none ? VM_YOUNG_NONE : 0;
			void *base = vt_map();
			CHECK(base != NULL);
			CHECKF(vm_format(&ctx, base, sizes[i]) == 0, "%s", ctx.err);
			CHECKF(vm_attach(&ctx, base, sizes[i]) == 0, "size %zu%s: %s", sizes[i],
			       none ? " (none asked)" : "", ctx.err);
		}
}

int main(void)
{
	check_begin("vm_young_test");
	vt_young_verify = true;
	RUN(survivors_keep_their_values_across_collections_mid_run);
	RUN(host_always_sees_an_empty_nursery);
	RUN(garbage_never_reaches_the_heap);
	RUN(remembered_set_overflow_walks_the_heap);
	RUN(marking_cycles_across_minor_collections);
	RUN(a_dead_objects_remembered_slot_is_dropped);
	RUN(a_held_monitor_follows_its_young_object);
	RUN(the_nursery_is_a_root_of_a_full_collection);
	RUN(a_grown_monitor_table_leaves_no_young_reference_behind);
	RUN(young_garbage_never_makes_an_out_of_memory);
	RUN(regions_without_a_nursery_attach_at_any_size);
	munmap(VT_ADDR, VT_REGION);
	return check_done();
}
