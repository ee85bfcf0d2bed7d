/* pst_arena_prep_race_test.c — a write to a prepared page opens the
 * prepared pages after it (arena.c unprotect_prepared_ahead): racing a
 * declare_unused of some of those pages by another mutator, forced in
 * order through a wrapped platform table as in pst_arena_fresh_race_test
 * (the take's RW change lands after the declaration's PROT_NONE), a page
 * must not end absent but writable (its next store untracked, saved as
 * unused). Also: a read-only scan of fresh zeros after a dirty page lists
 * nothing it only read. */
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

static struct plat_ops wrapped;
static _Atomic int armed;
static uint8_t *take_addr;     /* first page unprotect_prepared_ahead opens */
static size_t take_len;
static uint8_t *decl_addr;
static size_t decl_len;
static _Atomic int a_in_protect, b_none_done, a_done;

static void wait_flag(_Atomic int *f, uint64_t ms)
{
	uint64_t until = plat_monotonic_ns() + ms * 1000000ull;
	while (!atomic_load(f) && plat_monotonic_ns() < until)
		plat_thread_yield();
}

static int w_protect(void *addr, size_t len, enum plat_prot prot)
{
	if (atomic_load(&armed) && addr == take_addr && len == take_len &&
	    prot == PLAT_PROT_RW) {
		/* A: its CAS loop is over (pages S_NONE); hold the change
		 * until the declaration has protected its run. */
		atomic_store(&a_in_protect, 1);
		wait_flag(&b_none_done, 2000);
		return plat_hosted_ops.mem_protect(addr, len, prot);
	}
	if (atomic_load(&armed) && addr == decl_addr && len == decl_len &&
	    prot == PLAT_PROT_NONE) {
		int rc = plat_hosted_ops.mem_protect(addr, len, prot);
		atomic_store(&b_none_done, 1);
		wait_flag(&a_done, 2000);
		return rc;
	}
	return plat_hosted_ops.mem_protect(addr, len, prot);
}

struct racer { struct pst_arena *a; uint32_t p; };

static void racer_thread(void *arg)
{
	struct racer *r = arg;
	page(r->a, r->p)[1] = 2;             /* a prepared page: opens ahead */
	atomic_store(&a_done, 1);
}

static bool listed(const struct pst_arena_batch *b, uint32_t p)
{
	for (size_t i = 0; i < b->count; i++)
		if (b->pages[i] == p)
			return true;
	return false;
}

TEST(declare_unused_during_a_prepared_take)
{
	enum { N = 600 };
	struct pst_arena *a = open_arena();
	CHECK(a != NULL);
	for (uint32_t p = 0; p < N; p++)
		page(a, p)[0] = 1;
	CHECK_EQ(pst_arena_epoch_prepare(a), 0);    /* all PREPROT, read-only */
	take_addr = page(a, 101);
	take_len = 15 * PAGE;
	decl_addr = page(a, 104);
	decl_len = 4 * PAGE;
	atomic_store(&a_in_protect, 0);
	atomic_store(&b_none_done, 0);
	atomic_store(&a_done, 0);
	wrapped = plat_hosted_ops;
	wrapped.mem_protect = w_protect;
	plat_install(&wrapped);
	atomic_store(&armed, 1);
	struct racer r = { a, 100 };
	plat_thread *t;
	CHECK_EQ(plat_thread_create(&t, racer_thread, &r, "racer"), 0);
	wait_flag(&a_in_protect, 5000);
	CHECK(atomic_load(&a_in_protect));
	/* another mutator frees 104..107 (which A never touched) */
	int rc = pst_arena_declare_unused(a, 104, 4);
	plat_thread_join(t);
	atomic_store(&armed, 0);
	plat_install(&plat_hosted_ops);
	CHECK_EQ(rc, 0);
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	CHECK(page_is(page(a, 104), 0));        /* declared: reads zeros */
	page(a, 104)[0] = 0x77;                 /* the heap uses it again */
	pst_arena_stats(a, &st);
	CHECKF(st.page_ins > st0.page_ins,
	       "store to page 104 (absent, declared unused) did not trap");
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK(listed(&b, 104));
	uint8_t buf[PAGE];
	int kind = 0;
	uint8_t first = 0;
	for (size_t i = 0; i < b.count; i++) {
		const void *c = NULL;
		int k = pst_arena_save_page(a, b.pages[i], buf, &c);
		if (b.pages[i] == 104) {
			kind = k;
			if (k == PST_SAVE_PAGE)
				first = ((const uint8_t *)c)[0];
		}
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	CHECKF(kind == PST_SAVE_PAGE && first == 0x77,
	       "page 104 written after its declaration saved as kind %d "
	       "(1 page, 2 unused), first byte %#x", kind, first);
	CHECK_EQ(arena_close_test(a), 0);
}

/* A read-only scan of memory that reads as zeros, right after one page
 * written in this epoch: how many of the scanned pages end up listed. */
TEST(read_scan_after_a_dirty_page_lists_nothing_it_only_read)
{
	struct pst_arena *a = open_arena();
	CHECK(a != NULL);
	page(a, 999)[0] = 1;
	unsigned sum = 0;
	for (uint32_t p = 1000; p < 2000; p++)
		sum += ((volatile uint8_t *)page(a, p))[0];
	CHECK_EQ(sum, 0);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	size_t n = b.count;
	uint8_t buf[PAGE];
	for (size_t i = 0; i < b.count; i++) {
		const void *c;
		pst_arena_save_page(a, b.pages[i], buf, &c);
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	CHECKF(n == 1, "%zu pages listed after writing 1 and reading 1000",
	       n);
	CHECK_EQ(arena_close_test(a), 0);
}

int main(void)
{
	check_begin("pst_arena_prep_race_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_arena_prep_race_test/init\n");
		return 1;
	}
	RUN(declare_unused_during_a_prepared_take);
	RUN(read_scan_after_a_dirty_page_lists_nothing_it_only_read);
	return check_done();
}
