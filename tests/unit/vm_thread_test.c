/* vm_thread_test.c — VM threads inside the region: monitors exclude and
 * re-enter, wait/notify hand items from a producer to a consumer, sleepers
 * wake in deadline order on the wall clock, join delivers results, and a
 * region restored while threads sleep or wait resumes them all correctly. */
#include "../vm/vmtest.h"
#include "hosted.h"

/* Two threads add to a shared counter with a yield between the read and
 * the write: only mutual exclusion keeps every increment. The critical
 * section is entered twice (re-entrant). */
static const char *counter_prog =
	".class Main\n.static c lock\n"
	".method static work 1 0\n.locals 2\n"
	" iconst 0\n store 1\n"
	"loop:\n load 1\n load 0\n if_icmpge done\n"
	" getstatic Main.lock\n monitorenter\n getstatic Main.lock\n monitorenter\n"
	" getstatic Main.c\n invokenative thread.yield\n iconst 1\n iadd\n putstatic Main.c\n"
	" getstatic Main.lock\n monitorexit\n getstatic Main.lock\n monitorexit\n"
	" iinc 1 1\n goto loop\n"
	"done:\n return\n.end\n"
	".method static main 0 1\n.locals 2\n"
	" iconst 0\n putstatic Main.c\n ldc \"lock\"\n putstatic Main.lock\n"
	" ldc \"Main.work\"\n iconst 300\n invokenative thread.start\n store 0\n"
	" ldc \"Main.work\"\n iconst 300\n invokenative thread.start\n store 1\n"
	" load 0\n invokenative thread.join\n pop\n load 1\n invokenative thread.join\n pop\n"
	" getstatic Main.c\n vreturn\n.end\n";

static const char *unsync_prog_patch(void)
{
	/* The same program with the monitor instructions turned into pops:
	 * proves the test can see lost updates. */
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s", counter_prog);
	for (char *p; (p = strstr(buf, "monitorenter")) || (p = strstr(buf, "monitorexit"));) {
		size_t n = strncmp(p, "monitorenter", 12) == 0 ? 12 : 11;
		memcpy(p, "pop", 3);
		memset(p + 3, ' ', n - 3);
	}
	return buf;
}

static int64_t main_result(struct vm_ctx *ctx, uint32_t id)
{
	vm_value v;
	if (vm_thread_result(ctx, id, &v) != 0)
		return -999999;
	return vm_fix_val(v);
}

TEST(monitors_exclude_and_reenter)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, counter_prog, true, &id, err, sizeof err) == 0, "%s", err);
	CHECK(vt_drive(&ctx, 7, 100000) == 0);
	CHECK_EQ(main_result(&ctx, id), 600);
	CHECKF(vt_out.n == 0, "unexpected output: %s", vt_out.buf);

	CHECKF(vt_boot(&ctx, unsync_prog_patch(), true, &id, err, sizeof err) == 0, "%s", err);
	CHECK(vt_drive(&ctx, 7, 100000) == 0);
	CHECKF(main_result(&ctx, id) < 600, "no lost update without monitors: %lld",
	       (long long)main_result(&ctx, id));
}

/* A one-slot buffer: the producer waits while it is full, the consumer
 * while it is empty; notifyAll wakes the other side. */
static const char *pc_prog =
	".class Buf\n.field full val\n"
	".class Main\n.static buf\n"
	".method static producer 1 0\n.locals 2\n"
	" iconst 1\n store 1\n"
	"loop:\n load 1\n load 0\n if_icmpgt done\n"
	" getstatic Main.buf\n monitorenter\n"
	"w:\n getstatic Main.buf\n getfield Buf.full\n ifeq put\n"
	" getstatic Main.buf\n invokenative object.wait\n goto w\n"
	"put:\n getstatic Main.buf\n load 1\n putfield Buf.val\n"
	" getstatic Main.buf\n iconst 1\n putfield Buf.full\n"
	" getstatic Main.buf\n invokenative object.notifyAll\n"
	" getstatic Main.buf\n monitorexit\n iinc 1 1\n goto loop\n"
	"done:\n return\n.end\n"
	".method static consumer 1 1\n.locals 3\n"
	" iconst 0\n store 1\n iconst 0\n store 2\n"
	"loop:\n load 1\n load 0\n if_icmpge done\n"
	" getstatic Main.buf\n monitorenter\n"
	"w:\n getstatic Main.buf\n getfield Buf.full\n ifne take\n"
	" getstatic Main.buf\n invokenative object.wait\n goto w\n"
	"take:\n load 2\n iconst 1000\n imul\n getstatic Main.buf\n getfield Buf.val\n iadd\n"
	" iconst 1000003\n irem\n store 2\n"
	" getstatic Main.buf\n iconst 0\n putfield Buf.full\n"
	" getstatic Main.buf\n invokenative object.notifyAll\n"
	" getstatic Main.buf\n monitorexit\n iinc 1 1\n goto loop\n"
	"done:\n load 2\n vreturn\n.end\n"
	".method static main 0 1\n.locals 2\n"
	" new Buf\n dup\n iconst 0\n putfield Buf.full\n putstatic Main.buf\n"
	" ldc \"Main.consumer\"\n iconst 200\n invokenative thread.start\n store 0\n"
	" ldc \"Main.producer\"\n iconst 200\n invokenative thread.start\n store 1\n"
	" load 1\n invokenative thread.join\n pop\n"
	" load 0\n invokenative thread.join\n vreturn\n.end\n";

/* The consumer's order-sensitive digest of 1..n. */
static int64_t pc_expect(int n)
{
	int64_t d = 0;
	for (int i = 1; i <= n; i++)
		d = (int32_t)((uint32_t)d * 1000u + (uint32_t)i) % 1000003;
	return d;
}

TEST(producer_consumer_with_wait_notify)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	uint64_t slices[] = { 1, 3, 50, 0 };
	for (int i = 0; i < 4; i++) {
		CHECKF(vt_boot(&ctx, pc_prog, true, &id, err, sizeof err) == 0, "%s", err);
		CHECKF(vt_drive(&ctx, slices[i], 200000) == 0, "deadlock at slice %llu", (unsigned long long)slices[i]);
		CHECK_EQ(main_result(&ctx, id), pc_expect(200));
	}
	/* With a collection at every allocation (thread stacks, monitor table). */
	CHECKF(vt_boot(&ctx, pc_prog, true, &id, err, sizeof err) == 0, "%s", err);
	vm_gc_stress(&ctx, true);
	CHECK(vt_drive(&ctx, 3, 200000) == 0);
	CHECK_EQ(main_result(&ctx, id), pc_expect(200));
	/* The same run, restored from its bytes every few scheduler passes,
	 * with an incremental marking cycle always in progress (so restores
	 * land in the middle of cycles). */
	CHECKF(vt_boot(&ctx, pc_prog, true, &id, err, sizeof err) == 0, "%s", err);
	vm_gc_incremental_stress(&ctx, true);
	int passes = 0;
	while (!vm_all_done(&ctx) && passes < 5000) {
		vm_run_passes(&ctx, 5, 3);
		passes++;
		CHECKF(vt_restore(&ctx) == 0, "%s", ctx.err);
	}
	CHECK(vm_all_done(&ctx));
	CHECKF(passes > 50 && passes < 2000, "%d restores", passes);
	CHECK_EQ(main_result(&ctx, id), pc_expect(200));
}

/* Three sleepers started in the order 300, 100, 200 ms print in deadline
 * order; main joins them and returns the sum of their results. */
static const char *sleep_prog =
	".class Main\n"
	".method static sleeper 1 1\n"
	" load 0\n invokenative thread.sleep\n ldc \"woke \"\n load 0\n sconcat\n print\n load 0\n vreturn\n.end\n"
	".method static main 0 1\n.locals 3\n"
	" ldc \"Main.sleeper\"\n iconst 300\n invokenative thread.start\n store 0\n"
	" ldc \"Main.sleeper\"\n iconst 100\n invokenative thread.start\n store 1\n"
	" ldc \"Main.sleeper\"\n iconst 200\n invokenative thread.start\n store 2\n"
	" load 0\n invokenative thread.join\n load 1\n invokenative thread.join\n iadd\n"
	" load 2\n invokenative thread.join\n iadd\n vreturn\n.end\n";

TEST(sleepers_wake_in_deadline_order)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, sleep_prog, true, &id, err, sizeof err) == 0, "%s", err);
	uint64_t t0 = vt_now;
	vm_run_all(&ctx, 100);
	CHECK(!vm_all_done(&ctx));
	CHECK_EQ(vm_next_wakeup_ns(&ctx), t0 + 100000000ull);
	vt_now = t0 + 99999999ull;     /* not yet */
	vm_run_all(&ctx, 100);
	CHECK_EQ(vt_out.n, 0);
	CHECK(vt_drive(&ctx, 100, 100) == 0);
	CHECK_STR(vt_out.buf, "woke 100\nwoke 200\nwoke 300\n");
	CHECK_EQ(main_result(&ctx, id), 600);
	CHECK_EQ(vt_now, t0 + 300000000ull);
	CHECK_EQ(vm_next_wakeup_ns(&ctx), UINT64_MAX);
}

TEST(restore_while_threads_sleep_and_wait)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, sleep_prog, true, &id, err, sizeof err) == 0, "%s", err);
	uint64_t t0 = vt_now;
	vm_run_all(&ctx, 100);
	vt_now = t0 + 150000000ull;    /* the 100 ms sleeper wakes before the crash */
	vm_run_all(&ctx, 100);
	CHECK_STR(vt_out.buf, "woke 100\n");
	/* Crash with one thread asleep until t0+200ms, one until t0+300ms and
	 * main blocked in join; the reboot comes 120 ms of wall time later. */
	CHECKF(vt_restore(&ctx) == 0, "%s", ctx.err);
	vt_now = t0 + 270000000ull;
	vm_run_all(&ctx, 100);
	CHECK_STR(vt_out.buf, "woke 100\nwoke 200\n");
	CHECK_EQ(vm_next_wakeup_ns(&ctx), t0 + 300000000ull);
	CHECKF(vt_restore(&ctx) == 0, "%s", ctx.err);
	CHECK(vt_drive(&ctx, 100, 100) == 0);
	CHECK_STR(vt_out.buf, "woke 100\nwoke 200\nwoke 300\n");
	CHECK_EQ(main_result(&ctx, id), 600);
}

/* Real wall clock: a 30 ms sleep takes at least 30 ms and not much more. */
TEST(sleep_on_the_real_clock)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	const char *prog = ".class Main\n.method static main 0 1\n iconst 30\n invokenative thread.sleep\n"
		" iconst 7\n vreturn\n.end\n";
	CHECKF(vt_boot(&ctx, prog, false, &id, err, sizeof err) == 0, "%s", err);
	uint64_t t0 = vt_real_now();
	CHECK(vt_drive(&ctx, 100, 1000) == 0);
	uint64_t dt = vt_real_now() - t0;
	CHECKF(dt >= 30000000ull && dt < 1000000000ull, "slept %llu ns", (unsigned long long)dt);
	CHECK_EQ(main_result(&ctx, id), 7);
}

/* join: result of a finished thread, null for a failed one; monitorexit
 * without owning and notify without owning raise a catchable
 * IllegalMonitorStateException; thread.current is the running thread. */
static const char *misc_prog =
	".class Main\n"
	".method static ok 1 1\n load 0\n iconst 2\n imul\n vreturn\n.end\n"
	".method static bad 1 1\n load 0\n iconst 0\n idiv\n vreturn\n.end\n"
	".method static self 0 1\n invokenative thread.current\n vreturn\n.end\n"
	".method static main 0 0\n.locals 2\n"
	" ldc \"Main.ok\"\n iconst 21\n invokenative thread.start\n invokenative thread.join\n print\n"
	" ldc \"Main.bad\"\n iconst 1\n invokenative thread.start\n invokenative thread.join\n print\n"
	" ldc \"Main.self\"\n invokenative thread.start0\n dup\n store 0\n invokenative thread.join\n"
	" load 0\n if_acmpeq same\n ldc \"current differs\"\n print\n"
	"same:\n"
	"t0:\n ldc \"x\"\n monitorexit\nt1:\n ldc \"no throw\"\n print\n goto n0\n"
	"h1:\n getfield Throwable.message\n print\n"
	"n0:\n ldc \"x\"\n invokenative object.notify\nn1:\n return\n"
	"h2:\n checkcast IllegalMonitorStateException\n pop\n ldc \"notify IMSE\"\n print\n return\n"
	".catch IllegalMonitorStateException t0 t1 h1\n"
	".catch IllegalMonitorStateException n0 n1 h2\n"
	".end\n";

TEST(join_current_and_monitor_errors)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, misc_prog, true, &id, err, sizeof err) == 0, "%s", err);
	CHECK(vt_drive(&ctx, 10, 1000) == 0);
	CHECK_STR(vt_out.buf, "42\nnull\nmonitorexit by a thread that does not own the monitor\nnotify IMSE\n");
}

/* 300 threads started and joined one after another in an 8 MiB region:
 * only possible if an ended thread's 512 KiB stack becomes garbage. */
static const char *many_prog =
	".class Main\n"
	".method static one 1 1\n load 0\n vreturn\n.end\n"
	".method static main 0 1\n.locals 2\n iconst 0\n store 0\n iconst 0\n store 1\n"
	"l:\n load 1\n ldc \"Main.one\"\n load 0\n invokenative thread.start\n invokenative thread.join\n iadd\n store 1\n"
	" iinc 0 1\n load 0\n iconst 300\n if_icmplt l\n load 1\n vreturn\n.end\n";

TEST(ended_threads_release_their_stacks)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	for (int incr = 0; incr < 2; incr++) {
		CHECKF(vt_boot(&ctx, many_prog, true, &id, err, sizeof err) == 0, "%s", err);
		vm_gc_incremental_stress(&ctx, incr);
		CHECK(vt_drive(&ctx, 50, 100000) == 0);
		CHECKF(vt_out.n == 0, "%s", vt_out.buf);
		CHECK_EQ(main_result(&ctx, id), 299 * 300 / 2);
	}
}

int main(void)
{
	check_begin("vm_thread_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: vm_thread_test/init: plat_hosted_init failed\n");
		return 1;
	}
	RUN(monitors_exclude_and_reenter);
	RUN(producer_consumer_with_wait_notify);
	RUN(sleepers_wake_in_deadline_order);
	RUN(restore_while_threads_sleep_and_wait);
	RUN(sleep_on_the_real_clock);
	RUN(join_current_and_monitor_errors);
	RUN(ended_threads_release_their_stacks);
	munmap(VT_ADDR, VT_REGION);
	return check_done();
}
