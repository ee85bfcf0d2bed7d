/* vm_young_oom_test.c — the nursery never causes an OutOfMemoryError. Its
 * used bytes are kept free above the bump pointer (its survivors must fit
 * in the heap), and that room is mostly garbage: every old allocation
 * that fails while the nursery holds anything must empty it and try
 * again. The heap is filled with live arrays until ~30 000 bytes stay
 * free, young garbage cells (24 bytes each) are made until the nursery
 * holds about that much, and then one instruction that allocates in the
 * old heap runs: a monitorenter (the monitor table), a built-in exception
 * (NullPointerException), a native's exception (object.wait without the
 * monitor). The band of garbage counts covers the point where the nursery
 * holds all but a few bytes of the free room. */
#include "../vm/vmtest.h"

static char prog[4096];

/* The program: `arrays` live 300-element arrays, then `churn` young
 * garbage cells, then tail (labels t0 and t1 around what may throw). */
static void make_prog(uint64_t arrays, int churn, const char *tail)
{
	snprintf(prog, sizeof prog,
		 ".class Cell\n.field v\n"
		 ".class Main\n.static keep\n"
		 ".method static main 0 1\n.locals 4\n"
		 " iconst %llu\n newarray\n dup\n putstatic Main.keep\n store 0\n"
		 " iconst 0\n store 1\n"
		 "fill:\n load 1\n iconst %llu\n if_icmpge filled\n load 0\n load 1\n iconst 300\n newarray\n astore\n"
		 " iinc 1 1\n goto fill\n"
		 "filled:\n iconst 0\n store 1\n"
		 "churn:\n load 1\n iconst %d\n if_icmpge done\n new Cell\n pop\n iinc 1 1\n goto churn\n"
		 "done:\n%s"
		 " iconst 1\n vreturn\n"
		 "h:\n pop\n iconst 2\n vreturn\n"
		 ".catch NullPointerException t0 t1 h\n.catch IllegalMonitorStateException t0 t1 h\n"
		 ".end\n", (unsigned long long)arrays, (unsigned long long)arrays, churn, tail);
}

/* Runs the program with the heap filled to about `room` free bytes (a
 * first boot of the same program measures the room it has). Returns the
 * program's result, or -10 - the vm_run result. */
static int run_near_full(uint64_t young, uint64_t room, int churn, const char *tail, char *err, size_t en)
{
	struct vm_ctx ctx;
	uint32_t id;
	vt_young_bytes = young;
	make_prog(1, churn, tail);
	if (vt_boot(&ctx, prog, true, &id, err, en))
		return -1;
	make_prog((ctx.root->heap_hi - ctx.root->bump - room) / (302 * 8), churn, tail);
	if (vt_boot(&ctx, prog, true, &id, err, en))
		return -1;
	int rc = vm_run(&ctx, id, 0);
	snprintf(err, en, "%s", ctx.err);
	vm_value v;
	if (rc == VM_RUN_DONE && vm_thread_result(&ctx, id, &v) == 0)
		return (int)vm_fix_val(v);
	return -rc - 10;
}

static const char *tail_monitor =
	"t0:\n new Cell\n dup\n store 2\n monitorenter\n load 2\n monitorexit\nt1:\n";
static const char *tail_imse =
	"t0:\n new Cell\n invokenative object.wait\n iconst 3\n vreturn\nt1:\n";
static const char *tail_npe =
	"t0:\n aconst_null\n getfield Cell.v\n pop\n iconst 2\n vreturn\nt1:\n";

/* Every garbage count in the band around room / 24 cells: the expected
 * result (the exception caught: 2; the monitor taken: 1) each time. */
static void band(const char *tail, int want)
{
	char err[512];
	const uint64_t room = 30000;
	for (int churn = (int)(room / 24) - 40; churn <= (int)(room / 24) + 4; churn++) {
		int got = run_near_full(0, room, churn, tail, err, sizeof err);
		CHECKF(got == want, "%d garbage cells: result %d, want %d (%s)", churn, got, want, err);
	}
}

TEST(monitorenter_never_runs_out_for_the_nursery)
{
	band(tail_monitor, 1);
}

TEST(builtin_exception_never_runs_out_for_the_nursery)
{
	band(tail_npe, 2);
}

TEST(native_exception_never_runs_out_for_the_nursery)
{
	band(tail_imse, 2);
}

int main(void)
{
	check_begin("vm_young_oom_test");
	RUN(monitorenter_never_runs_out_for_the_nursery);
	RUN(builtin_exception_never_runs_out_for_the_nursery);
	RUN(native_exception_never_runs_out_for_the_nursery);
	munmap(VT_ADDR, VT_REGION);
	return check_done();
}
