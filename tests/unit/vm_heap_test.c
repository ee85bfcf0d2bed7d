/* vm_heap_test.c — the allocator and collector: garbage is reclaimed and
 * its space reused, reachable objects survive collections (also in stress
 * mode), running out of memory raises a catchable OutOfMemoryError and
 * deep recursion a catchable StackOverflowError, never a crash. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "../../cluster-tools/asm/asm.h"
#include "../../vm/classfile.h"
#include "../../vm/internal.h"
#include "../../vm/internal.h"

#define REGION (4u << 20)

static void *region;
static struct vm_ctx ctx;
static char out[4096];
static size_t nout;

static void cap(void *arg, const char *s, size_t n)
{
	(void)arg;
	if (nout + n < sizeof out) {
		memcpy(out + nout, s, n);
		nout += n;
		out[nout] = 0;
	}
}

static int run(const char *text, vm_value *result)
{
	uint8_t *f;
	size_t n;
	char err[512];
	if (pasm_assemble("h.pasm", text, strlen(text), &f, &n, err, sizeof err)) {
		printf("%s\n", err);
		return -1;
	}
	if (!region)
		region = aligned_alloc(4096, REGION);
	memset(&ctx, 0, sizeof ctx);
	nout = 0;
	out[0] = 0;
	vm_set_output(&ctx, cap, NULL);
	uint32_t id;
	int rc = vm_format(&ctx, region, REGION);
	if (!rc)
		rc = vm_load(&ctx, f, n);
	free(f);
	if (!rc)
		rc = vm_thread_start(&ctx, "Main", "main", &id);
	if (!rc)
		rc = vm_run(&ctx, id, 0);
	if (rc == VM_RUN_DONE && result)
		vm_thread_result(&ctx, id, result);
	return rc;
}

TEST(garbage_is_reclaimed_and_reused)
{
	struct vm_root *r;
	int rc0 = run(".class Main\n.method static main 0 0\n return\n.end\n", NULL);
	CHECKF(rc0 == VM_RUN_DONE, "rc %d: %s", rc0, ctx.err);
	r = ctx.root;
	uint64_t base_live = vm_gc(&ctx);
	/* 10,000 arrays of 100 slots = 8 MB through a 4 MB region. */
	for (int i = 0; i < 10000; i++)
		CHECKF(vm_new_array(&ctx, 100), "allocation %d failed", i);
	CHECK(r->gc_count > 1);
	uint64_t live = vm_gc(&ctx);
	CHECK_EQ(live, base_live);
	/* A freed block of the same size is reused before the bump pointer. */
	uint64_t bump = r->bump;
	struct vm_array *a = vm_new_array(&ctx, 10);
	r->tmp[0] = vm_ref(a);
	struct vm_array *b = vm_new_array(&ctx, 10);
	(void)b;
	r->tmp[0] = VM_NULL;
	vm_gc(&ctx);
	struct vm_array *c = vm_new_array(&ctx, 10);
	CHECK(c == a || c == b);
	CHECK(r->bump <= bump + 2 * 12 * 8);
}

/* The heap is persistent, so freed memory is reused before fresh memory:
 * a program that keeps allocating short-lived objects stays in the pages
 * it has already touched instead of walking the bump pointer across the
 * whole region (every fresh page is one more for each snapshot to save). */
TEST(freed_memory_before_fresh_memory)
{
	int rc0 = run(".class Main\n.method static main 0 0\n return\n.end\n", NULL);
	CHECKF(rc0 == VM_RUN_DONE, "rc %d: %s", rc0, ctx.err);
	struct vm_root *r = ctx.root;
	vm_gc(&ctx);
	uint64_t start = r->bump;
	/* 200,000 garbage arrays of 8 slots (~16 MB) through a 4 MB region:
	 * collections every 1 MiB, each freeing one large run. */
	for (int i = 0; i < 200000; i++)
		CHECKF(vm_new_array(&ctx, 8), "allocation %d failed", i);
	CHECK(r->gc_count > 4);
	/* Bump-first allocation ends at heap_hi; reuse stays within about
	 * two collection intervals of the start. */
	CHECKF(r->bump - start < 3u * (1u << 20), "bump moved %llu bytes",
	       (unsigned long long)(r->bump - start));
}

/* Writes into [wp_lo, wp_hi) while it is read-only: each unprotects its
 * page and is counted, as the arena's write trap counts a dirty page. */
static uintptr_t wp_lo, wp_hi;
static volatile unsigned wp_faults;

static void on_write(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	uintptr_t a = (uintptr_t)si->si_addr;
	if (a < wp_lo || a >= wp_hi) {
		signal(sig, SIG_DFL);
		return;
	}
	wp_faults++;
	mprotect((void *)(a & ~(uintptr_t)4095), 4096, PROT_READ | PROT_WRITE);
}

/* A collection writes its colours to the side bitmap, not to the live
 * objects: on a persistent heap, a collection that wrote every live
 * object's header would make every live page dirty for the next snapshot. */
TEST(collection_leaves_live_objects_unwritten)
{
	int rc0 = run(".class Main\n.method static main 0 0\n return\n.end\n", NULL);
	CHECKF(rc0 == VM_RUN_DONE, "rc %d: %s", rc0, ctx.err);
	struct vm_root *r = ctx.root;
	enum { N = 10000 };
	struct vm_array *keep = vm_new_array(&ctx, N);
	CHECK(keep);
	r->tmp[0] = vm_ref(keep);
	for (int i = 0; i < N; i++) {
		struct vm_array *e = vm_new_array(&ctx, 2);
		CHECK(e);
		e->data[0] = vm_fix(i);
		keep->data[i] = vm_ref(e);
	}
	vm_gc(&ctx);                   /* no cycle left in progress */
	uintptr_t first = (uintptr_t)vm_ptr(keep->data[0]);
	uintptr_t last = (uintptr_t)vm_ptr(keep->data[N - 1]);
	CHECK(last > first + 64 * 4096);
	wp_lo = (first + 4095) & ~(uintptr_t)4095;
	wp_hi = last & ~(uintptr_t)4095;
	struct sigaction sa = { 0 }, old;
	sa.sa_sigaction = on_write;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, &old);
	wp_faults = 0;
	CHECK(mprotect((void *)wp_lo, wp_hi - wp_lo, PROT_READ) == 0);
	vm_gc(&ctx);
	vm_gc(&ctx);
	unsigned faults = wp_faults;
	mprotect((void *)wp_lo, wp_hi - wp_lo, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &old, NULL);
	CHECKF(faults == 0, "two collections wrote %u of %zu live pages", faults,
	       (size_t)((wp_hi - wp_lo) / 4096));
	for (int i = 0; i < N; i++) {
		struct vm_array *e = vm_ptr(keep->data[i]);
		CHECK(e->h.cls == r->builtin[VM_BI_ARRAY] && vm_fix_val(e->data[0]) == i);
	}
	r->tmp[0] = VM_NULL;
}

/* The collector's cursors index the side bitmap, so a region whose root
 * has them out of the heap is refused at attach, not followed outside the
 * region. */
TEST(attach_refuses_wild_collector_cursors)
{
	int rc0 = run(".class Main\n.method static main 0 0\n return\n.end\n", NULL);
	CHECKF(rc0 == VM_RUN_DONE, "rc %d: %s", rc0, ctx.err);
	struct vm_root *r = ctx.root, saved = *r;
	CHECK_EQ(vm_attach(&ctx, region, REGION), 0);
	for (int k = 0; k < 8; k++) {
		*r = saved;
		switch (k) {
		case 0: r->gc_marking = 1; r->gc_scan = r->heap_lo;
			r->gc_gray_lo = UINT64_MAX; r->gc_ngray = VM_GC_GRAY + 1; break;
		case 1: r->gc_marking = 1; r->gc_scan = r->heap_lo;
			r->gc_gray_lo = UINT64_MAX; r->gc_ngray = 1;
			r->gc_gray[0] = r->heap_lo - 16; break;
		case 2: r->gc_marking = 1; r->gc_scan = r->bump + 8;
			r->gc_gray_lo = UINT64_MAX; r->gc_ngray = 0; break;
		case 3: r->gc_sweeping = 1; r->gc_sweep_at = r->heap_lo;
			r->gc_sweep_end = r->bump + 64; break;
		case 4: r->gc_bits += 4; r->heap_hi += 4; break;
		case 5: r->bump_peak = r->bump - 8; break;
		case 6: r->bump_peak = r->heap_hi + 8; break;
		case 7: r->heap_clean += 8; break;
		}
		int rc = vm_attach(&ctx, region, REGION);
		CHECKF(rc == -ERR_CORRUPT, "case %d: rc %d", k, rc);
	}
	*r = saved;
	CHECK_EQ(vm_attach(&ctx, region, REGION), 0);
}

TEST(reachable_objects_survive_stress)
{
	int rc0 = run(".class Main\n.method static main 0 0\n return\n.end\n", NULL);
	CHECKF(rc0 == VM_RUN_DONE, "rc %d: %s", rc0, ctx.err);
	struct vm_root *r = ctx.root;
	vm_gc_stress(&ctx, true);
	struct vm_array *keep = vm_new_array(&ctx, 50);
	r->tmp[0] = vm_ref(keep);
	for (int i = 0; i < 50; i++) {
		struct vm_string *s = vm_new_string(&ctx, "abcdefgh", 1 + (size_t)(i % 8));
		CHECK(s);
		keep->data[i] = vm_ref(s);
		vm_new_array(&ctx, (uint64_t)i);       /* garbage in between */
	}
	vm_gc(&ctx);
	for (int i = 0; i < 50; i++) {
		struct vm_string *s = vm_ptr(keep->data[i]);
		CHECK(s->h.cls == r->builtin[VM_BI_STRING]);
		CHECK(vm_str_eq(s, "abcdefgh", 1 + (size_t)(i % 8)));
	}
	r->tmp[0] = VM_NULL;
}

TEST(out_of_memory_is_catchable)
{
	/* Keep every array reachable from a list until the heap is full. */
	const char *p =
		".class Main\n.method static main 0 1\n.locals 2\n"
		"t0:\n aconst_null\n store 0\n"
		"l:\n iconst 2\n newarray\n dup\n iconst 0\n load 0\n astore\n dup\n"
		" iconst 1\n iconst 1000\n newarray\n astore\n store 0\n goto l\n"
		"t1:\n iconst 0\n vreturn\n"
		"h:\n getfield Throwable.message\n print\n aconst_null\n store 0\n iconst 1\n vreturn\n"
		".catch OutOfMemoryError t0 t1 h\n.end\n";
	vm_value v = 0;
	int rc = run(p, &v);
	CHECKF(rc == VM_RUN_DONE, "rc %d: %s", rc, ctx.err);
	CHECK_EQ(vm_fix_val(v), 1);
}

TEST(stack_overflow_is_catchable)
{
	const char *p =
		".class Main\n.method static down 1 1\n load 0\n iconst 1\n iadd\n invokestatic Main.down\n vreturn\n.end\n"
		".method static main 0 1\nt0:\n iconst 0\n invokestatic Main.down\n vreturn\nt1:\n"
		"h:\n getfield Throwable.message\n print\n iconst 7\n vreturn\n"
		".catch StackOverflowError t0 t1 h\n.end\n";
	vm_value v = 0;
	int rc = run(p, &v);
	CHECKF(rc == VM_RUN_DONE, "rc %d: %s", rc, ctx.err);
	CHECK_EQ(vm_fix_val(v), 7);
	CHECK(strcmp(out, "stack overflow\n") == 0);
}

TEST(type_errors_raise_not_crash)
{
	/* iadd on a string, getfield on an int, aload on a non-array: each a
	 * ClassCastException the program can see. */
	const char *ops[] = { " ldc \"s\"\n iconst 1\n iadd\n pop\n",
			      " iconst 3\n getfield Main.f\n pop\n",
			      " ldc \"s\"\n iconst 0\n aload\n pop\n",
			      " iconst 1\n invokevirtual Main.m\n pop\n" };
	for (unsigned i = 0; i < 4; i++) {
		char p[1024];
		snprintf(p, sizeof p, ".class Main\n.field f\n.method m 1 1\n iconst 0\n vreturn\n.end\n"
			 ".method static main 0 0\n%s return\n.end\n", ops[i]);
		int rc = run(p, NULL);
		CHECKF(rc == VM_RUN_FAILED, "case %u: rc %d", i, rc);
		CHECKF(strstr(ctx.err, "ClassCastException"), "case %u: %s", i, ctx.err);
	}
}

TEST(entry_frame_larger_than_a_stack_is_refused)
{
	const char *p = ".class Main\n.method static main 0 0\n.locals 65000\n.stack 1000\n return\n.end\n";
	int rc = run(p, NULL);
	CHECK_EQ(rc, -ERR_RANGE);
	CHECKF(strstr(ctx.err, "larger than a thread stack"), "%s", ctx.err);
}

int main(void)
{
	check_begin("vm_heap_test");
	RUN(garbage_is_reclaimed_and_reused);
	RUN(freed_memory_before_fresh_memory);
	RUN(collection_leaves_live_objects_unwritten);
	RUN(attach_refuses_wild_collector_cursors);
	RUN(reachable_objects_survive_stress);
	RUN(out_of_memory_is_catchable);
	RUN(stack_overflow_is_catchable);
	RUN(type_errors_raise_not_crash);
	RUN(entry_frame_larger_than_a_stack_is_refused);
	free(region);
	return check_done();
}
