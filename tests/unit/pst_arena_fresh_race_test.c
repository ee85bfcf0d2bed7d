/* pst_arena_fresh_race_test.c — fresh-page fault-ahead (arena.c fresh_ahead)
 * where it meets other things: a protection change that fails part way, a
 * declare_unused of the pages it is taking, and pages declared unused in
 * the closing epoch (PENDING_UNUSED) that held data before. The races are
 * forced in order through a wrapped platform table (plat_install) whose
 * mem_protect / mem_discard stop at the interesting call. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../kernel/hosted/hosted.h"
#include "../../persist/arena.h"
#include "arena_pages.h"

static struct pst_arena *open_arena(void)
{
	struct pst_arena_config cfg = { .size = 16ull << 20, .cow_pages = 64,
					.write_around = 16 };
	return arena_open_test(&cfg);
}

/* ---- the wrapped platform ---------------------------------------------- */

enum mode { M_OFF, M_FAIL_PARTIAL, M_DECLARE_RACE, M_FAIL_DISCARD };

static struct plat_ops wrapped;
static _Atomic int mode;
static uint8_t *target;                  /* first page of the take       */
static uint64_t target_pages;            /* the declared run's length    */
static _Atomic int a_in_protect, b_none_done, a_done, a_go;
static _Atomic int partial_calls;

static void wait_flag(_Atomic int *f, uint64_t ms)
{
	uint64_t until = plat_monotonic_ns() + ms * 1000000ull;
	while (!atomic_load(f) && plat_monotonic_ns() < until)
		plat_thread_yield();
}

static int w_protect(void *addr, size_t len, enum plat_prot prot)
{
	int m = atomic_load(&mode);
	if (m == M_FAIL_PARTIAL && addr == target && len > PAGE &&
	    prot == PLAT_PROT_RW) {
		/* The first page changes, then the call fails (as one that
		 * runs out of VMAs or page tables part way would); a store
		 * another mutator makes meanwhile goes through. */
		atomic_fetch_add(&partial_calls, 1);
		int rc = plat_hosted_ops.mem_protect(addr, PAGE, prot);
		if (rc == 0)
			*(volatile uint8_t *)addr = 0x55;
		return -ERR_NOMEM;
	}
	if (m == M_DECLARE_RACE && addr == target && prot == PLAT_PROT_RW &&
	    len > PAGE) {
		/* the fault-ahead's change (thread A), after the declaration
		 * has protected the run */
		atomic_store(&a_in_protect, 1);
		wait_flag(&b_none_done, 2000);
		return plat_hosted_ops.mem_protect(addr, len, prot);
	}
	if (m == M_DECLARE_RACE && addr == target &&
	    len == target_pages * PAGE && prot == PLAT_PROT_NONE) {
		/* the declaration's protection (thread B): the fault-ahead
		 * finishes before its step 3 */
		int rc = plat_hosted_ops.mem_protect(addr, len, prot);
		atomic_store(&b_none_done, 1);
		wait_flag(&a_done, 2000);
		return rc;
	}
	return plat_hosted_ops.mem_protect(addr, len, prot);
}

static int w_discard(void *addr, size_t len)
{
	if (atomic_load(&mode) == M_FAIL_DISCARD)
		return -ERR_IO;
	if (atomic_load(&mode) == M_DECLARE_RACE && addr == target &&
	    len == target_pages * PAGE) {
		/* declare_run's step 1 is over: let A write the page before
		 * the run, and wait until its fault-ahead protects (or has
		 * returned, having taken none of it) */
		atomic_store(&a_go, 1);
		uint64_t until = plat_monotonic_ns() + 2000000000ull;
		while (!atomic_load(&a_in_protect) && !atomic_load(&a_done) &&
		       plat_monotonic_ns() < until)
			plat_thread_yield();
	}
	return plat_hosted_ops.mem_discard(addr, len);
}

static void wrap_install(void)
{
	wrapped = plat_hosted_ops;
	wrapped.mem_protect = w_protect;
	wrapped.mem_discard = w_discard;
	plat_install(&wrapped);
}

static void wrap_remove(void)
{
	atomic_store(&mode, M_OFF);
	plat_install(&plat_hosted_ops);
}

/* ---- helpers ----------------------------------------------------------- */

static bool listed(const struct pst_arena_batch *b, uint32_t p)
{
	for (size_t i = 0; i < b->count; i++)
		if (b->pages[i] == p)
			return true;
	return false;
}

/* Saves every page of b; what page p's save gave (kind, first byte). */
static void save_batch(struct pst_arena *a, struct pst_arena_batch *b,
		       uint32_t p, int *kind, uint8_t *first)
{
	uint8_t buf[PAGE];
	*kind = 0;
	for (size_t i = 0; i < b->count; i++) {
		const void *c = NULL;
		int k = pst_arena_save_page(a, b->pages[i], buf, &c);
		if (b->pages[i] == p) {
			*kind = k;
			if (k == PST_SAVE_PAGE)
				*first = ((const uint8_t *)c)[0];
		}
		pst_arena_save_done(a, b->pages[i]);
	}
}

/* ---- tests ------------------------------------------------------------- */

/* The take's protection change fails after it has opened the first page,
 * and a store lands there before the failure is seen. That store is the
 * program's: the page must end up listed and saved with it, not absent
 * again (an absent page that holds data, unlisted, whose next touch then
 * comes in by protection alone). */
TEST(a_failed_take_loses_no_write)
{
	struct pst_arena *a = open_arena();
	CHECK(a != NULL);
	target = page(a, 32);
	atomic_store(&partial_calls, 0);
	wrap_install();
	atomic_store(&mode, M_FAIL_PARTIAL);
	page(a, 30)[0] = 1;
	page(a, 31)[0] = 1;                  /* takes 32..47: fails part way */
	wrap_remove();
	CHECK_EQ(atomic_load(&partial_calls), 1);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	bool has32 = listed(&b, 32);
	int kind;
	uint8_t first = 0;
	save_batch(a, &b, 32, &kind, &first);
	pst_arena_batch_free(&b);
	CHECKF(has32, "page 32 holds a write but is not listed");
	CHECK_EQ(kind, PST_SAVE_PAGE);
	CHECK_EQ(first, 0x55);
	CHECK_EQ(page(a, 32)[0], 0x55);
	/* the pages the failed change left closed work as ordinary pages */
	page(a, 40)[0] = 7;
	CHECK_EQ(page(a, 40)[0], 7);
	CHECK(page_is(page(a, 41), 0));
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK(listed(&b, 40));
	save_batch(a, &b, 40, &kind, &first);
	pst_arena_batch_free(&b);
	CHECK_EQ(kind, PST_SAVE_PAGE);
	CHECK_EQ(first, 7);
	CHECK_EQ(arena_close_test(a), 0);
}

struct racer { struct pst_arena *a; };

static void racer_thread(void *arg)
{
	struct racer *r = arg;
	wait_flag(&a_go, 5000);
	page(r->a, 11)[0] = 1;               /* 10 dirty: takes 12.. */
	atomic_store(&a_done, 1);
}

/* A mutator fills fresh memory up to a run another declares unused (which
 * it never touched: the unprotect_around comment allows that). The take
 * must not end with a page absent but writable: the program's next store
 * there would go untracked and its epoch would save the page as unused. */
TEST(declare_unused_during_a_fresh_take)
{
	struct pst_arena *a = open_arena();
	CHECK(a != NULL);
	page(a, 10)[0] = 1;                  /* dirty: 11's write takes ahead */
	target = page(a, 12);
	target_pages = 8;
	atomic_store(&a_in_protect, 0);
	atomic_store(&b_none_done, 0);
	atomic_store(&a_done, 0);
	atomic_store(&a_go, 0);
	wrap_install();
	atomic_store(&mode, M_DECLARE_RACE);
	struct racer r = { a };
	plat_thread *t;
	CHECK_EQ(plat_thread_create(&t, racer_thread, &r, "racer"), 0);
	int rc = pst_arena_declare_unused(a, 12, 8);
	plat_thread_join(t);
	wrap_remove();
	CHECK_EQ(rc, 0);
	CHECK(page_is(page(a, 12), 0));      /* declared: reads zeros */
	page(a, 12)[0] = 0x77;               /* the heap uses it again */
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	int kind;
	uint8_t first = 0;
	bool has12 = listed(&b, 12);
	save_batch(a, &b, 12, &kind, &first);
	pst_arena_batch_free(&b);
	CHECK(has12);
	CHECKF(kind == PST_SAVE_PAGE && first == 0x77,
	       "page 12 written after its declaration saved as kind %d "
	       "(1 page, 2 unused), first byte %#x", kind, first);
	CHECK_EQ(arena_close_test(a), 0);
}

/* Pages that held data, declared unused in the closing epoch (still
 * PENDING_UNUSED), taken ahead by a fill before the writer saves them:
 * they read zeros, the closing epoch saves them as unused, and the next
 * as pages of zeros. */
TEST(pending_unused_pages_taken_ahead)
{
	struct pst_arena *a = open_arena();
	CHECK(a != NULL);
	for (uint32_t p = 56; p-- > 50;)
		memset(page(a, p), 0xab, PAGE);
	struct pst_arena_batch b;
	int kind;
	uint8_t first;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	save_batch(a, &b, 50, &kind, &first);
	pst_arena_batch_free(&b);
	CHECK_EQ(pst_arena_declare_unused(a, 50, 6), 0);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);   /* 50..55 PENDING_UNUSED */
	page(a, 48)[0] = 0;
	page(a, 49)[0] = 0;                          /* takes 50..65 */
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.around_pages, 16);
	for (uint32_t p = 50; p < 56; p++)
		CHECK(page_is(page(a, p), 0));
	page(a, 51)[0] = 9;                          /* after the instant */
	uint8_t buf[PAGE];
	for (size_t i = 0; i < b.count; i++) {
		const void *c;
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c),
			 PST_SAVE_UNUSED);
		pst_arena_save_done(a, b.pages[i]);
	}
	CHECK_EQ(b.count, 6);
	pst_arena_batch_free(&b);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 18);                       /* 48..65 */
	for (size_t i = 0; i < b.count; i++) {
		const void *c;
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c),
			 PST_SAVE_PAGE);
		if (b.pages[i] == 51)
			CHECK_EQ(((const uint8_t *)c)[0], 9);
		else
			CHECK(page_is(c, 0));
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	CHECK_EQ(arena_close_test(a), 0);
}

/* A declaration that fails leaves each page as it was: present ones
 * present with their contents, absent ones absent (so their first touch
 * is a page-in, from the pager, not a page of zeros). */
TEST(a_failed_declaration_leaves_pages_as_they_were)
{
	struct pst_arena *a = open_arena();
	CHECK(a != NULL);
	for (uint32_t p = 64; p-- > 60;)
		memset(page(a, p), 0x60 + (int)p, PAGE);
	wrap_install();
	atomic_store(&mode, M_FAIL_DISCARD);
	int rc = pst_arena_declare_unused(a, 60, 8);
	wrap_remove();
	CHECK(rc != 0);
	for (uint32_t p = 60; p < 64; p++)
		CHECK(page_is(page(a, p), (uint8_t)(0x60 + p)));
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	CHECK(page_is(page(a, 66), 0));
	pst_arena_stats(a, &st);
	CHECK_EQ(st.read_faults, st0.read_faults + 1);     /* paged in */
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 4);                              /* 60..63 */
	int kind;
	uint8_t first = 0;
	save_batch(a, &b, 61, &kind, &first);
	pst_arena_batch_free(&b);
	CHECK_EQ(kind, PST_SAVE_PAGE);
	CHECK_EQ(first, (uint8_t)(0x60 + 61));
	CHECK_EQ(arena_close_test(a), 0);
}

int main(void)
{
	check_begin("pst_arena_fresh_race_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_arena_fresh_race_test/init: plat_hosted_init\n");
		return 1;
	}
	RUN(a_failed_take_loses_no_write);
	RUN(declare_unused_during_a_fresh_take);
	RUN(pending_unused_pages_taken_ahead);
	RUN(a_failed_declaration_leaves_pages_as_they_were);
	return check_done();
}
