/* vm_restore_test.c — the VM's whole state lives in its region: run a
 * program part way to a safepoint, copy the region's bytes aside, unmap it
 * and forget every C-side structure, map a fresh region at the same
 * address, copy the bytes back, attach and resume: the program must finish
 * with the same output and result as an uninterrupted run. Also: the
 * safepoint flag stops a running thread from another thread, a loop made
 * only of throws into a handler that covers itself reaches safepoints too,
 * and several VM threads share the processor round-robin. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include "check.h"
#include "../../cluster-tools/asm/asm.h"
#include "../../vm/classfile.h"
#include "../../vm/internal.h"
#include "../../vm/vm.h"

#define ADDR   ((void *)0x300000000000ull)
#define REGION (16u << 20)

static void *map_region(void)
{
	munmap(ADDR, REGION);          /* left over by an earlier failed test */
	void *p = mmap(ADDR, REGION, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	return p == ADDR ? p : NULL;
}

/* Recursion, objects, strings and a boxed long, so the resumed state
 * includes frames, heap objects and a partially built list. */
static const char *prog =
	".class Node\n.field next v\n"
	".class Main\n.static total\n"
	".method static fib 1 1\n load 0\n iconst 2\n if_icmplt s\n"
	" load 0\n iconst 1\n isub\n invokestatic Main.fib\n"
	" load 0\n iconst 2\n isub\n invokestatic Main.fib\n iadd\n vreturn\n"
	"s:\n load 0\n vreturn\n.end\n"
	".method static main 0 1\n.locals 3\n"
	" aconst_null\n store 1\n iconst 0\n store 0\n ldc 4611686018427387000L\n putstatic Main.total\n"
	"loop:\n new Node\n dup\n load 1\n putfield Node.next\n dup\n"
	" load 0\n invokestatic Main.fib\n putfield Node.v\n store 1\n"
	" getstatic Main.total\n load 1\n getfield Node.v\n i2l\n ladd\n putstatic Main.total\n"
	" ldc \"step \"\n load 0\n sconcat\n print\n"
	" iinc 0 1\n load 0\n iconst 22\n if_icmplt loop\n"
	" getstatic Main.total\n print\n"
	" iconst 0\n store 2\n"
	"sum:\n load 1\n ifnull done\n load 2\n load 1\n getfield Node.v\n iadd\n store 2\n"
	" load 1\n getfield Node.next\n store 1\n goto sum\n"
	"done:\n load 2\n vreturn\n.end\n";

static uint8_t *cls;
static size_t ncls;

static int boot(struct vm_ctx *ctx, void *base, struct capture *c, uint32_t *id)
{
	memset(ctx, 0, sizeof *ctx);
	vm_set_output(ctx, capture_out, c);
	if (vm_format(ctx, base, REGION) || vm_load(ctx, cls, ncls))
		return -1;
	return vm_thread_start(ctx, "Main", "main", id);
}

TEST(restore_mid_run_gives_the_same_answer)
{
	char err[512];
	CHECKF(pasm_assemble("restore.pasm", prog, strlen(prog), &cls, &ncls, err, sizeof err) == 0, "%s", err);
	/* Reference: one uninterrupted run. */
	void *base = map_region();
	CHECK(base);
	struct vm_ctx ctx;
	struct capture want = { 0 };
	uint32_t id;
	CHECK(boot(&ctx, base, &want, &id) == 0);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	vm_value expect;
	CHECK(vm_thread_result(&ctx, id, &expect) == 0);
	CHECK(munmap(base, REGION) == 0);

	/* Interrupted: stop every 2000 polls, and each time throw away the
	 * mapping and every C structure, then rebuild from the bytes. */
	struct capture got = { 0 };
	base = map_region();
	CHECK(base);
	CHECK(boot(&ctx, base, &got, &id) == 0);
	uint8_t *saved = malloc(REGION);
	int stops = 0, rc;
	while ((rc = vm_run(&ctx, id, 2000)) == VM_RUN_STOPPED) {
		stops++;
		memcpy(saved, base, REGION);
		CHECK(munmap(base, REGION) == 0);
		memset(&ctx, 0xa5, sizeof ctx);      /* C state destroyed */
		base = map_region();
		CHECK(base);
		memset(base, 0x5a, REGION);          /* not a zeroed lucky region */
		memcpy(base, saved, REGION);
		memset(&ctx, 0, sizeof ctx);
		vm_set_output(&ctx, capture_out, &got);
		CHECKF(vm_attach(&ctx, base, REGION) == 0, "%s", ctx.err);
	}
	free(saved);
	CHECK_EQ(rc, VM_RUN_DONE);
	CHECKF(stops > 20, "only %d safepoint stops", stops);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), vm_fix_val(expect));
	CHECKF(strcmp(capture_str(&got), capture_str(&want)) == 0, "output differs:\n%s\nvs\n%s",
	       capture_str(&got), capture_str(&want));
	CHECK(strstr(capture_str(&want), "step 21\n4611686018427415656\n"));
	capture_reset(&got);
	capture_reset(&want);
	/* A region whose root header is damaged is refused, not trusted. */
	((uint64_t *)base)[0] ^= 1;
	CHECK_EQ(vm_attach(&ctx, base, REGION), -ERR_CORRUPT);
	CHECK(munmap(base, REGION) == 0);
}

static const char *spin =
	".class Main\n.method static main 0 1\n.locals 1\n"
	" iconst 0\n store 0\nl:\n iinc 0 1\n goto l\n.end\n"
	".method static count 0 1\n.locals 1\n"
	" iconst 0\n store 0\nl:\n iinc 0 1\n load 0\n iconst 300000\n if_icmplt l\n load 0\n vreturn\n.end\n";

static void *stopper(void *arg)
{
	usleep(20000);
	vm_stop_request(arg);
	return NULL;
}

/* Assembles src into a fresh region and starts Main.main: 0, or -1 with
 * the reason in err. *base is the mapped region, *cls_out the class file
 * (*n_out bytes). */
static int boot_src(const char *name, const char *src, struct vm_ctx *ctx, void **base,
		    uint8_t **cls_out, size_t *n_out, uint32_t *id, char *err, size_t en)
{
	size_t n;
	if (pasm_assemble(name, src, strlen(src), cls_out, &n, err, en) != 0)
		return -1;
	*n_out = n;
	*base = map_region();
	memset(ctx, 0, sizeof *ctx);
	if (*base == NULL || vm_format(ctx, *base, REGION) != 0 ||
	    vm_load(ctx, *cls_out, n) != 0 ||
	    vm_thread_start(ctx, "Main", "main", id) != 0) {
		snprintf(err, en, "boot failed: %s", *base ? ctx->err : "no region");
		return -1;
	}
	return 0;
}

TEST(safepoint_flag_stops_an_endless_loop)
{
	char err[512];
	uint8_t *f = NULL;
	void *base = NULL;
	struct vm_ctx ctx;
	uint32_t id, a, b;
	size_t n = 0;
	CHECKF(boot_src("spin.pasm", spin, &ctx, &base, &f, &n, &id, err, sizeof err) == 0, "%s", err);
	pthread_t th;
	pthread_create(&th, NULL, stopper, &ctx);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_STOPPED);
	pthread_join(th, NULL);
	vm_stop_clear(&ctx);
	CHECK_EQ(vm_run(&ctx, id, 100), VM_RUN_STOPPED);
	/* In a fresh region, two threads share the processor and both finish. */
	CHECK(vm_format(&ctx, base, REGION) == 0);
	CHECK(vm_load(&ctx, f, n) == 0);
	CHECK(vm_thread_start(&ctx, "Main", "count", &a) == 0);
	CHECK(vm_thread_start(&ctx, "Main", "count", &b) == 0);
	CHECK_EQ(vm_run_all(&ctx, 1000), 0);
	vm_value va, vb;
	CHECK(vm_thread_result(&ctx, a, &va) == 0);
	CHECK(vm_thread_result(&ctx, b, &vb) == 0);
	CHECK_EQ(vm_fix_val(va), 300000);
	CHECK_EQ(vm_fix_val(vb), 300000);
	CHECK(munmap(base, REGION) == 0);
	free(f);
}

/* The handler covers its own target: each pass throws (division by zero)
 * and re-enters the handler without any backward branch or call. */
static const char *throw_loop =
	".class Main\n.method static main 0 0\n"
	" aconst_null\nh:\n pop\n iconst 1\n iconst 0\n idiv\n pop\ne:\n return\n"
	".catch * h e h\n.end\n";

static void hung(int sig)
{
	(void)sig;
	static const char m[] = "FAIL: vm_restore_test/throw_loop_reaches_safepoints: "
		"no safepoint within 30 s\n";
	(void)!write(1, m, sizeof m - 1);
	_exit(1);
}

TEST(throw_loop_reaches_safepoints)
{
	char err[512];
	uint8_t *f = NULL;
	void *base = NULL;
	struct vm_ctx ctx;
	uint32_t id;
	size_t n = 0;
	CHECKF(boot_src("throw.pasm", throw_loop, &ctx, &base, &f, &n, &id, err, sizeof err) == 0,
	       "%s", err);
	signal(SIGALRM, hung);
	alarm(30);
	/* The budget counts polls: 1000 handler entries, then it stops, and
	 * resumes as often as asked. */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(vm_run(&ctx, id, 1000), VM_RUN_STOPPED);
	pthread_t th;
	pthread_create(&th, NULL, stopper, &ctx);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_STOPPED);
	pthread_join(th, NULL);
	alarm(0);
	vm_stop_clear(&ctx);
	CHECK(munmap(base, REGION) == 0);
	free(f);
}

int main(void)
{
	check_begin("vm_restore_test");
	RUN(restore_mid_run_gives_the_same_answer);
	RUN(safepoint_flag_stops_an_endless_loop);
	RUN(throw_loop_reaches_safepoints);
	free(cls);
	return check_done();
}
