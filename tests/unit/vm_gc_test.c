/* vm_gc_test.c — incremental marking. The write barrier: a marking cycle
 * starts, then a thread moves the only heap reference to an object onto
 * its stack and deletes it from the heap; the cycle ends and garbage
 * reuses freed blocks. Without the snapshot barrier the object is swept
 * and overwritten. Also: a cycle driven in small steps frees what a full
 * collection frees, and survives a restore in the middle. */
#include "../vm/vmtest.h"

static const char *prog =
	".class Cell\n.field v\n"
	".class Main\n.static holder\n"
	".method static main 0 0\n"      /* holder = Cell(v = Cell(v = 1234)) */
	" new Cell\n dup\n new Cell\n dup\n iconst 1234\n putfield Cell.v\n putfield Cell.v\n"
	" putstatic Main.holder\n return\n.end\n"
	".method static move 0 1\n.locals 1\n"
	" getstatic Main.holder\n getfield Cell.v\n store 0\n"
	" getstatic Main.holder\n aconst_null\n putfield Cell.v\n"
	" invokenative thread.yield\n"     /* a safepoint with the object only on the stack */
	" load 0\n getfield Cell.v\n vreturn\n.end\n"
	".method static churn 0 0\n.locals 1\n iconst 20000\n store 0\n"
	"l:\n new Cell\n iconst -1\n putfield Cell.v\n iinc 0 -1\n load 0\n ifgt l\n return\n.end\n";

TEST(barrier_keeps_a_moved_reference_alive)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id, mv, ch;
	CHECKF(vt_boot(&ctx, prog, true, &id, err, sizeof err) == 0, "%s", err);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	CHECK(vm_thread_start(&ctx, "Main", "move", &mv) == 0);
	CHECK(vm_thread_start(&ctx, "Main", "churn", &ch) == 0);
	CHECK(!vm_gc_step(&ctx, 0));   /* a cycle starts: roots shaded only */
	CHECK_EQ(vm_run(&ctx, mv, 0), VM_RUN_STOPPED);
	CHECK(vm_gc_step(&ctx, UINT64_MAX));
	CHECK_EQ(vm_run(&ctx, ch, 0), VM_RUN_DONE);
	CHECK_EQ(vm_run(&ctx, mv, 0), VM_RUN_DONE);
	vm_value v;
	CHECK(vm_thread_result(&ctx, mv, &v) == 0);
	CHECKF(vm_fix_val(v) == 1234, "the moved object was freed: its field reads %lld", (long long)vm_fix_val(v));
}

/* Small steps and a restore mid-cycle find exactly what a full collection
 * right after finds live (nothing runs in between), and far less than
 * the garbage made. */
TEST(stepped_cycle_across_a_restore)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id, ch;
	CHECKF(vt_boot(&ctx, prog, true, &id, err, sizeof err) == 0, "%s", err);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	CHECK(vm_thread_start(&ctx, "Main", "churn", &ch) == 0);
	CHECK_EQ(vm_run(&ctx, ch, 0), VM_RUN_DONE);
	int steps = 0;
	bool done = vm_gc_step(&ctx, 0);
	while (!done && steps < 1000000) {
		done = vm_gc_step(&ctx, 50);
		if (++steps == 20)
			CHECKF(vt_restore(&ctx) == 0, "%s", ctx.err);
	}
	CHECK(done);
	CHECKF(steps > 20, "only %d steps", steps);
	uint64_t stepped = vm_gc_live_words(&ctx);
	CHECK_EQ(vm_gc(&ctx), stepped);
	CHECKF(stepped < 20000, "%llu words live after 20000 garbage cells", (unsigned long long)stepped);
}

int main(void)
{
	check_begin("vm_gc_test");
	/* The old heap's collector: objects are born there (no nursery), so
	 * the churn reuses what a missing barrier would let it free. */
	vt_young_bytes = VM_YOUNG_NONE;
	RUN(barrier_keeps_a_moved_reference_alive);
	RUN(stepped_cycle_across_a_restore);
	munmap(VT_ADDR, VT_REGION);
	return check_done();
}
