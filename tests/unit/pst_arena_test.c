/* pst_arena_test.c — the persistent arena alone: lazy page-in from a pager on
 * a 64 GiB reservation, dirty tracking (one write fault per page per epoch),
 * the snapshot instant's re-protection, copy-on-write of pages still being
 * saved, the early re-protection before a big instant (also racing a
 * write fault), declared-unused
 * pages, leaf-reserve starvation, and bad arguments. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../kernel/hosted/hosted.h"
#include "../../persist/arena.h"
#include "arena_pages.h"


/* A pager: page p is "in the store" when p % 3 == 0, filled with (p & 0xff)
 * ^ 0x5a. page_in runs in the fault handler: atomics only. */
static atomic_ulong pager_calls;

static int test_page_in(void *ctx, uint64_t pgno, void *buf, bool *present)
{
	(void)ctx;
	atomic_fetch_add(&pager_calls, 1);
	if (pgno % 3 != 0) {
		*present = false;
		return 0;
	}
	memset(buf, (int)((pgno & 0xff) ^ 0x5a), PAGE);
	*present = true;
	return 0;
}

static uint32_t open_around;     /* write_around for open_small (0: off) */

static struct pst_arena *open_small(uint64_t size, bool with_pager,
				    uint32_t cow, uint32_t leaves)
{
	/* Fault-around off: these tests count faults and copies page by
	 * page; write_fault_around tests it on its own. */
	struct pst_arena_config cfg = { .size = size, .cow_pages = cow,
					.leaf_reserve = leaves,
					.write_around = open_around ? open_around : 1 };
	if (with_pager)
		cfg.pager = (struct pst_pager){ .page_in = test_page_in };
	return arena_open_test(&cfg);
}

static int close_small(struct pst_arena *a)
{
	return arena_close_test(a);
}

TEST(lazy_page_in_64g)
{
	atomic_store(&pager_calls, 0);
	uint64_t t0 = plat_monotonic_ns();
	struct pst_arena *a = open_small(64ull << 30, true, 0, 0);
	uint64_t t1 = plat_monotonic_ns();
	CHECK(a != NULL);
	CHECK(pst_arena_base(a) == (void *)(uintptr_t)PLAT_ARENA_BASE);
	CHECK_EQ(pst_arena_pages(a), (64ull << 30) / PAGE);
	printf("  64 GiB arena opened in %.3f ms\n", (t1 - t0) / 1e6);
	uint64_t last = pst_arena_pages(a) - 1;          /* 3 | last? */
	uint64_t pg[] = { 0, 1, 3, 4096 * 7 + 5, last - 2, last };
	int hits = 0;
	for (unsigned i = 0; i < sizeof pg / sizeof pg[0]; i++) {
		uint8_t want = pg[i] % 3 == 0 ? (uint8_t)((pg[i] & 0xff) ^ 0x5a) : 0;
		hits += pg[i] % 3 == 0;
		CHECKF(page_is(page(a, pg[i]), want), "page %llu",
		       (unsigned long long)pg[i]);
	}
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.page_ins, 6);
	CHECK_EQ(st.read_faults, 6);
	CHECK_EQ(st.write_faults, 0);
	CHECK_EQ(st.pager_hits, hits);
	CHECK_EQ(atomic_load(&pager_calls), 6);
	/* A read of a paged-in page does not go back to the pager. */
	CHECK(page_is(page(a, 3), 3 ^ 0x5a));
	page(a, 3)[17] = 1;                  /* write fault: dirty, no page-in */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.page_ins, 6);
	CHECK_EQ(st.write_faults, 1);
	CHECK_EQ(atomic_load(&pager_calls), 6);
	CHECK_EQ(close_small(a), 0);
}

TEST(dirty_once_per_page_per_epoch)
{
	struct pst_arena *a = open_small(32ull << 20, false, 0, 0);
	CHECK(a != NULL);
	/* Writes with repeats, across a leaf boundary (page 4096). */
	uint32_t w[] = { 9, 4096, 4095, 9, 9, 200, 4095, 7000, 200 };
	uint32_t distinct[] = { 9, 200, 4095, 4096, 7000 };
	for (unsigned i = 0; i < sizeof w / sizeof w[0]; i++)
		page(a, w[i])[i * 8] = (uint8_t)(i + 1);
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, 5);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 5);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(b.pages[i], distinct[i]);
	/* Save each: contents are what was written. */
	uint8_t buf[PAGE];
	for (unsigned i = 0; i < b.count; i++) {
		const void *c = NULL;
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		CHECK(memcmp(c, page(a, b.pages[i]), PAGE) == 0);
		pst_arena_save_done(a, b.pages[i]);
	}
	CHECK_EQ(((const uint8_t *)page(a, 9))[4 * 8], 5);
	pst_arena_batch_free(&b);
	/* Re-protected: the next epoch faults again, once per page. */
	page(a, 9)[1] = 1;
	page(a, 9)[2] = 1;
	page(a, 7000)[1] = 1;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, 7);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 2);
	CHECK_EQ(b.pages[0], 9);
	CHECK_EQ(b.pages[1], 7000);
	for (unsigned i = 0; i < b.count; i++) {
		const void *c;
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	/* An epoch with nothing written is empty. */
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 0);
	pst_arena_batch_free(&b);
	CHECK_EQ(close_small(a), 0);
}

/* The instant re-protects runs that bridge present clean pages, never an
 * absent page (that would make it readable as zeros, skipping the pager). */
TEST(reprotect_bridges_clean_pages_only)
{
	atomic_store(&pager_calls, 0);
	struct pst_arena *a = open_small(16ull << 20, true, 0, 0);
	CHECK(a != NULL);
	volatile uint8_t sink = 0;
	for (uint64_t p = 100; p <= 120; p++)
		sink ^= page(a, p)[0];               /* present, clean */
	page(a, 100)[5] = 1;
	page(a, 120)[5] = 1;
	page(a, 130)[5] = 1;                     /* 121..129 absent */
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 3);
	uint8_t buf[PAGE];
	for (unsigned i = 0; i < b.count; i++) {
		const void *c;
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	struct pst_arena_stats st, st2;
	pst_arena_stats(a, &st);
	CHECK(page_is(page(a, 126), 126 ^ 0x5a));    /* from the pager */
	page(a, 110)[0] = 9;                          /* bridged: still tracked */
	page(a, 120)[0] = 9;                          /* re-protected */
	pst_arena_stats(a, &st2);
	CHECK_EQ(st2.page_ins, st.page_ins + 1);
	CHECK_EQ(st2.write_faults, st.write_faults + 2);
	CHECK_EQ(close_small(a), 0);
}

TEST(cow_keeps_instant_contents)
{
	struct pst_arena *a = open_small(16ull << 20, false, 8, 0);
	CHECK(a != NULL);
	memset(page(a, 1), 0x11, PAGE);
	memset(page(a, 2), 0x22, PAGE);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 2);
	/* Page 1 is written before it is saved: it must be copied first. */
	memset(page(a, 1), 0x99, PAGE);
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.cow_copies, 1);
	CHECK_EQ(st.cow_free, 7);
	uint8_t buf[PAGE];
	const void *c = NULL;
	CHECK_EQ(pst_arena_save_page(a, 1, buf, &c), PST_SAVE_PAGE);
	CHECK(c != buf);                         /* from the COW slot */
	CHECK(page_is(c, 0x11));
	CHECK(page_is(page(a, 1), 0x99));
	pst_arena_save_done(a, 1);
	CHECK_EQ(pst_arena_save_page(a, 2, buf, &c), PST_SAVE_PAGE);
	CHECK(c == buf);                         /* read directly */
	CHECK(page_is(c, 0x22));
	pst_arena_save_done(a, 2);
	pst_arena_stats(a, &st);
	CHECK_EQ(st.cow_free, 8);
	/* Saved pages are written afterwards without a copy. */
	memset(page(a, 2), 0x33, PAGE);
	pst_arena_stats(a, &st);
	CHECK_EQ(st.cow_copies, 1);
	pst_arena_batch_free(&b);
	/* Next epoch: 1 (dirtied by the COW write) and 2. */
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 2);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		CHECK(page_is(c, i == 0 ? 0x99 : 0x33));
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	CHECK_EQ(close_small(a), 0);
}

/* epoch_prepare re-protects a big epoch's dirty pages before the instant.
 * A page written after the prepare keeps that write in its instant contents
 * and is protected by the instant; every page, rewritten or not, is copied
 * before a write after the instant; the cut batch sorts to each page once. */
TEST(prepare_then_write_keeps_the_instant)
{
	enum { N = 600 };                        /* above the prepare minimum */
	struct pst_arena *a = open_small(64ull << 20, false, 2 * N, 0);
	CHECK(a != NULL);
	for (uint32_t p = 0; p < N; p++)         /* every other page: N runs */
		memset(page(a, 2 * p), 0x10, PAGE);
	CHECK_EQ(pst_arena_epoch_prepare(a), 0);
	for (uint32_t p = 0; p < N; p += 2)      /* half written again */
		memset(page(a, 2 * p), 0x20, PAGE);
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	CHECK_EQ(st0.write_faults, N);           /* no page listed twice */
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_cut(a, &b), 0);
	CHECK_EQ(b.count, N);
	CHECK_EQ(pst_arena_batch_sort(&b), 0);
	for (uint32_t i = 0; i < N; i++)
		CHECK_EQ(b.pages[i], 2 * i);
	for (uint32_t p = 0; p < N; p++)         /* all caught: copied first */
		memset(page(a, 2 * p), 0x30, PAGE);
	pst_arena_stats(a, &st);
	CHECK_EQ(st.cow_copies, N);
	uint8_t buf[PAGE];
	const void *c = NULL;
	for (uint32_t i = 0; i < N; i++) {
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		CHECKF(page_is(c, i % 2 == 0 ? 0x20 : 0x10),
		       "page %u lost its instant contents", b.pages[i]);
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	/* Next epoch: the N pages written after the instant, each once. */
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, N);
	for (uint32_t i = 0; i < N; i++) {
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		CHECK(page_is(c, 0x30));
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	CHECK_EQ(close_small(a), 0);
}

/* The prepare races a first write fault: it runs (from the hook) after the
 * page is listed dirty and before the fault unprotects it. The page must
 * still be protected by the instant, so a write after the instant is
 * copied first and the saved page holds the instant's contents. */
static void prepare_now(void *ctx, uint32_t pgno)
{
	(void)pgno;
	struct pst_arena *a = ctx;
	pst_arena_set_dirty_hook(a, NULL, NULL);    /* once */
	pst_arena_epoch_prepare(a);
}

TEST(prepare_racing_a_write_fault_keeps_the_instant)
{
	enum { N = 600, X = N + 10 };            /* N: above the prepare minimum */
	struct pst_arena *a = open_small(64ull << 20, false, 2 * N, 0);
	CHECK(a != NULL);
	struct pst_arena_batch b;
	uint8_t buf[PAGE];
	const void *c = NULL;
	/* Epoch 1: pages 0..N-1 and X written and saved: present and clean. */
	for (uint32_t p = 0; p < N; p++)
		memset(page(a, p), 0x10, PAGE);
	memset(page(a, X), 0x10, PAGE);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	for (uint32_t i = 0; i < b.count; i++) {
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	/* Epoch 2: N pages dirty, then X's first write runs the prepare. */
	for (uint32_t p = 0; p < N; p++)
		memset(page(a, p), 0x20, PAGE);
	pst_arena_set_dirty_hook(a, prepare_now, a);
	memset(page(a, X), 0x21, PAGE);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, N + 1);
	/* Epoch 3: X written again must fault (and be copied) first. */
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	memset(page(a, X), 0x30, PAGE);
	pst_arena_stats(a, &st);
	CHECKF(st.write_faults == st0.write_faults + 1,
	       "a write after the instant did not fault (%llu faults)",
	       (unsigned long long)(st.write_faults - st0.write_faults));
	bool saw_x = false;
	for (uint32_t i = 0; i < b.count; i++) {
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		if (b.pages[i] == X) {
			saw_x = true;
			CHECKF(page_is(c, 0x21), "page X saved with a write made after the instant");
		}
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	CHECK(saw_x);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 1);                    /* X, dirty in epoch 3 */
	pst_arena_batch_free(&b);
	CHECK_EQ(close_small(a), 0);
}

/* A 16 MiB arena with a 64-slot COW pool and a fault-around window of 16. */
static struct pst_arena *open_around16(void)
{
	open_around = 16;
	struct pst_arena *a = open_small(16ull << 20, false, 64, 0);
	open_around = 0;
	return a;
}

/* A write to a page of the closing epoch (HOT) takes its window's HOT
 * neighbours along: pending ones copied first, one already saved as it is;
 * a page of another window still faults on its own; every saved page holds
 * its instant contents and the next epoch lists each written page once.
 * Pages the next instant does not list again stop being HOT: each then
 * faults on its own. */
TEST(write_fault_around)
{
	struct pst_arena *a = open_around16();
	CHECK(a != NULL);
	/* Fresh pages written downwards: no write follows a dirty page, so
	 * none takes the fresh pages after it (pst_arena_fresh_test). */
	for (uint32_t p = 16; p-- > 0;)
		memset(page(a, p), (int)p, PAGE);
	static const uint32_t solo[] = { 20, 41, 40 };   /* 41 first: as above */
	for (unsigned i = 0; i < 3; i++)
		memset(page(a, solo[i]), (int)solo[i], PAGE);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 19);
	uint8_t buf[PAGE];
	const void *c = NULL;
	static const uint32_t saved_first[] = { 5, 40, 41 };
	for (unsigned i = 0; i < 3; i++) {
		CHECK_EQ(pst_arena_save_page(a, saved_first[i], buf, &c), PST_SAVE_PAGE);
		pst_arena_save_done(a, saved_first[i]);
	}
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	memset(page(a, 3), 0xa3, PAGE);          /* one trap for the window */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 1);
	CHECK_EQ(st.around_pages, st0.around_pages + 15);
	CHECK_EQ(st.cow_copies, st0.cow_copies + 15);       /* not page 5 */
	for (uint32_t p = 0; p < 16; p++)
		memset(page(a, p), 0xb0 + (int)p, PAGE);
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 1);    /* no more traps */
	memset(page(a, 20), 0xc0, PAGE);         /* another window */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 2);
	for (uint32_t i = 0; i < b.count; i++) {
		uint32_t p = b.pages[i];
		if (p == 5 || p == 40 || p == 41)
			continue;
		CHECK_EQ(pst_arena_save_page(a, p, buf, &c), PST_SAVE_PAGE);
		CHECKF(page_is(c, (uint8_t)p), "page %u lost its instant contents", p);
		pst_arena_save_done(a, p);
	}
	pst_arena_batch_free(&b);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 17);                   /* 0..15 and 20, once each */
	for (uint32_t i = 0; i < b.count; i++) {
		uint32_t p = b.pages[i];
		CHECK_EQ(p, i < 16 ? i : 20);
		CHECK_EQ(pst_arena_save_page(a, p, buf, &c), PST_SAVE_PAGE);
		CHECK(page_is(c, p == 20 ? 0xc0 : (uint8_t)(0xb0 + p)));
		pst_arena_save_done(a, p);
	}
	pst_arena_batch_free(&b);
	pst_arena_stats(a, &st0);
	memset(page(a, 40), 0x40, PAGE);         /* not listed again: own traps */
	memset(page(a, 41), 0x41, PAGE);
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 2);
	CHECK_EQ(st.around_pages, st0.around_pages);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 2);
	pst_arena_batch_free(&b);
	CHECK_EQ(close_small(a), 0);
}

/* A neighbour taken along but found unchanged stops being taken as soon as
 * its save says so (it is COLD, though still HOT from the last instant):
 * the window's trap takes only the pages really written; a write to the
 * cold page then traps on its own and makes it HOT again. */
TEST(unchanged_neighbours_cool_down)
{
	struct pst_arena *a = open_around16();
	CHECK(a != NULL);
	struct pst_arena_batch b;
	for (uint32_t p = 16; p-- > 0;)              /* all 16 HOT (downwards: */
		page(a, p)[0] = 1;                   /* not a sequential fill) */
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	arena_save_batch(a, &b, 0, 0);
	struct pst_arena_stats st0, st;
	unsigned taken[3];
	for (int e = 0; e < 3; e++) {
		pst_arena_stats(a, &st0);
		page(a, 0)[1] = (uint8_t)e;          /* only page 0 written */
		pst_arena_stats(a, &st);
		taken[e] = (unsigned)(st.around_pages - st0.around_pages);
		CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
		CHECK_EQ(b.count, 1 + taken[e]);
		arena_save_batch(a, &b, 1, 16);            /* 1..15 unchanged */
	}
	CHECK_EQ(taken[0], 15);                      /* HOT from the first epoch */
	CHECK_EQ(taken[1], 0);                       /* saved unchanged: COLD  */
	CHECK_EQ(taken[2], 0);                       /* and no longer HOT      */
	pst_arena_stats(a, &st0);
	page(a, 7)[0] = 9;                           /* really written again */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 1);
	page(a, 0)[1] = 9;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 2);
	arena_save_batch(a, &b, 0, 0);
	pst_arena_stats(a, &st0);
	page(a, 0)[1] = 10;                          /* takes page 7 again */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.around_pages, st0.around_pages + 1);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	arena_save_batch(a, &b, 0, 0);
	CHECK_EQ(close_small(a), 0);
}

/* A write to the page after one already dirty in this epoch takes the
 * pages ahead (present, clean, not COLD) along, so a program filling
 * memory in address order traps once per window, not once per page; a
 * guess not written after all cools down as for HOT windows, until a write
 * to a cooled page takes the cooled pages after it. */
TEST(sequential_writes_take_the_pages_ahead)
{
	struct pst_arena *a = open_around16();
	CHECK(a != NULL);
	for (uint32_t p = 164; p-- > 100;)          /* fresh: downwards, as */
		page(a, p)[0] = 1;                   /* in write_fault_around */
	for (uint32_t p = 332; p-- > 300;)
		page(a, p)[0] = 1;
	page(a, 200)[0] = 1;
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	arena_save_batch(a, &b, 0, 0);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);   /* retires HOT */
	CHECK_EQ(b.count, 0);
	pst_arena_batch_free(&b);
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	for (uint32_t p = 100; p < 164; p++)
		page(a, p)[1] = (uint8_t)p;
	pst_arena_stats(a, &st);
	CHECKF(st.write_faults - st0.write_faults == 5, "%llu traps for 64 pages in order",
	       (unsigned long long)(st.write_faults - st0.write_faults));
	CHECK_EQ(st.around_pages - st0.around_pages, 59);
	pst_arena_stats(a, &st0);
	page(a, 200)[1] = 200;                       /* alone: no neighbour dirty */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 1);
	CHECK_EQ(st.around_pages, st0.around_pages);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 65);
	uint8_t buf[PAGE];
	const void *c;
	for (uint32_t i = 0; i < b.count; i++) {
		uint32_t p = b.pages[i];
		CHECK_EQ(pst_arena_save_page(a, p, buf, &c), PST_SAVE_PAGE);
		CHECK(((const uint8_t *)c)[1] == (uint8_t)p);
		pst_arena_save_done(a, p);
	}
	pst_arena_batch_free(&b);
	/* Two pages written in order: the next 15 are a guess, found unchanged. */
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);   /* retires HOT */
	pst_arena_batch_free(&b);
	page(a, 300)[1] = 1;
	page(a, 301)[1] = 1;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 17);
	arena_save_batch(a, &b, 302, 332);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);   /* retires HOT */
	pst_arena_batch_free(&b);
	pst_arena_stats(a, &st0);
	page(a, 300)[1] = 2;
	page(a, 301)[1] = 2;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 2);
	CHECK_EQ(st.around_pages, st0.around_pages);   /* COLD: not taken */
	/* Then the program fills on into the cooled pages: the first write
	 * to one proves the guess wrong and takes the cold pages after it. */
	pst_arena_stats(a, &st0);
	for (uint32_t p = 302; p < 318; p++)
		page(a, p)[1] = 3;
	pst_arena_stats(a, &st);
	CHECKF(st.write_faults - st0.write_faults == 1,
	       "%llu traps filling 16 cold pages in order",
	       (unsigned long long)(st.write_faults - st0.write_faults));
	CHECK_EQ(st.around_pages - st0.around_pages, 15);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 18);
	arena_save_batch(a, &b, 0, 0);
	/* Written, the pages taken along are warm: HOT, so one trap takes
	 * the HOT window of 304..319 again (all but 318 and 319). Present
	 * memory written in order stays HOT: random writes to a dense hot
	 * region look the same, and it is rewritten every epoch (only fresh
	 * memory filled in order is not made HOT: pst_arena_fresh_test). */
	pst_arena_stats(a, &st0);
	page(a, 310)[1] = 4;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 1);
	CHECK_EQ(st.around_pages - st0.around_pages, 13);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 14);
	arena_save_batch(a, &b, 0, 0);
	CHECK_EQ(close_small(a), 0);
}

TEST(declare_unused)
{
	atomic_store(&pager_calls, 0);
	struct pst_arena *a = open_small(16ull << 20, true, 0, 0);
	CHECK(a != NULL);
	for (uint64_t p = 10; p < 20; p++)
		memset(page(a, p), (int)p, PAGE);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 10);
	/* 12..15 declared unused while still pending (12 is 3-aligned, so it
	 * came from the pager): its instant contents are copied first. */
	CHECK_EQ(pst_arena_declare_unused(a, 12, 4), 0);
	CHECK_EQ(pst_arena_declare_unused(a, 30, 3), 0);  /* never touched */
	uint8_t buf[PAGE];
	const void *c;
	for (unsigned i = 0; i < b.count; i++) {
		CHECK_EQ(pst_arena_save_page(a, b.pages[i], buf, &c), PST_SAVE_PAGE);
		CHECK(page_is(c, (uint8_t)b.pages[i]));
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	unsigned long calls = atomic_load(&pager_calls);
	CHECK(page_is(page(a, 13), 0));         /* zeros, not the pager */
	CHECK(page_is(page(a, 30), 0));         /* 30 % 3 == 0 in the pager */
	CHECK_EQ(atomic_load(&pager_calls), calls);
	page(a, 14)[0] = 7;                     /* reused in the same epoch */
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	uint32_t want[] = { 12, 13, 14, 15, 30, 31, 32 };
	CHECK_EQ(b.count, 7);
	for (unsigned i = 0; i < b.count; i++) {
		CHECK_EQ(b.pages[i], want[i]);
		int k = pst_arena_save_page(a, b.pages[i], buf, &c);
		bool touched = b.pages[i] == 13 || b.pages[i] == 14 ||
			       b.pages[i] == 30;
		CHECKF(k == (touched ? PST_SAVE_PAGE : PST_SAVE_UNUSED),
		       "page %u kind %d", b.pages[i], k);
		if (b.pages[i] == 13 || b.pages[i] == 30)  /* read: zeros */
			CHECK(page_is(c, 0));
		if (b.pages[i] == 14)
			CHECK(((const uint8_t *)c)[0] == 7);
		pst_arena_save_done(a, b.pages[i]);
	}
	pst_arena_batch_free(&b);
	CHECK_EQ(pst_arena_declare_unused(a, 4095, 2), -ERR_RANGE);
	CHECK_EQ(pst_arena_declare_unused(a, 4096, 0), 0);
	CHECK_EQ(close_small(a), 0);
}

/* A heap declares its free memory again at each collection: pages still
 * unused and untouched since are skipped, so only pages touched since (or
 * never declared) are listed again, and a repeat lists nothing. */
TEST(declaring_again_lists_only_pages_touched_since)
{
	struct pst_arena *a = open_small(16ull << 20, true, 0, 0);
	CHECK(a != NULL);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_declare_unused(a, 10, 8), 0);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 8);
	arena_save_batch(a, &b, 0, 0);
	page(a, 12)[0] = 1;                     /* written since */
	CHECK(page_is(page(a, 15), 0));         /* read since    */
	uint64_t discards = 0;
	for (int round = 0; round < 2; round++) {
		CHECK_EQ(pst_arena_declare_unused(a, 8, 12), 0);
		CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
		/* Round 0: 8, 9, 18, 19 never declared, 12 and 15 touched. */
		uint32_t want[] = { 8, 9, 12, 15, 18, 19 };
		CHECK_EQ(b.count, (round == 0 ? 6u : 0u));
		for (unsigned i = 0; i < b.count; i++)
			CHECK_EQ(b.pages[i], want[i]);
		discards += b.count;
		arena_save_batch(a, &b, 0, 0);
	}
	CHECK_EQ(discards, 6);
	CHECK(page_is(page(a, 12), 0));         /* discarded again */
	CHECK_EQ(close_small(a), 0);
}

/* Two threads race over the same 256 absent pages: reads and writes of a
 * page being loaded wait for it; each page is paged in and dirtied once. */
static struct pst_arena *race_arena;
static atomic_int race_wrong;
static void racer(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	for (uint64_t i = 0; i < 256; i++) {
		uint64_t p = t ? 255 - i : i;          /* meet in the middle */
		volatile uint8_t *pg = page(race_arena, p);
		uint8_t want = p % 3 == 0 ? (uint8_t)((p & 0xff) ^ 0x5a) : 0;
		if (pg[100] != want)
			atomic_fetch_add(&race_wrong, 1);
		pg[8 + t] = 1;
	}
}

TEST(concurrent_first_touch)
{
	atomic_store(&pager_calls, 0);
	atomic_store(&race_wrong, 0);
	race_arena = open_small(16ull << 20, true, 0, 0);
	CHECK(race_arena != NULL);
	plat_thread *t[2];
	for (uintptr_t i = 0; i < 2; i++)
		CHECK_EQ(plat_thread_create(&t[i], racer, (void *)i, "racer"), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(plat_thread_join(t[i]), 0);
	struct pst_arena_stats st;
	pst_arena_stats(race_arena, &st);
	CHECK_EQ(atomic_load(&race_wrong), 0);
	CHECK_EQ(st.page_ins, 256);
	CHECK_EQ(atomic_load(&pager_calls), 256);
	CHECK_EQ(st.write_faults, 256);
	for (uint64_t p = 0; p < 256; p++) {
		const uint8_t *pg = page(race_arena, p);
		CHECKF(pg[8] == 1 && pg[9] == 1, "page %llu",
		       (unsigned long long)p);
	}
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(race_arena, &b), 0);
	CHECK_EQ(b.count, 256);
	pst_arena_batch_free(&b);
	CHECK_EQ(close_small(race_arena), 0);
}

/* A mutator that touches one page in each of 6 leaves (16 MiB apart) with a
 * reserve of 2: it must wait in the fault handler for refills. */
static atomic_int toucher_done;
static void toucher(void *arg)
{
	struct pst_arena *a = arg;
	for (uint64_t i = 0; i < 6; i++)
		page(a, i * 4096 + 1)[0] = (uint8_t)(i + 1);
	atomic_store(&toucher_done, 1);
}

TEST(leaf_reserve_starvation_waits)
{
	struct pst_arena *a = open_small(128ull << 20, false, 0, 2);
	CHECK(a != NULL);
	atomic_store(&toucher_done, 0);
	plat_thread *t;
	CHECK_EQ(plat_thread_create(&t, toucher, a, "toucher"), 0);
	plat_sleep_ns(20 * 1000 * 1000);
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(atomic_load(&toucher_done), 0);   /* stuck: no refill yet */
	CHECK(st.leaf_waits >= 1);
	while (!atomic_load(&toucher_done)) {
		CHECK_EQ(pst_arena_refill(a), 0);
		plat_sleep_ns(1000 * 1000);
	}
	CHECK_EQ(plat_thread_join(t), 0);
	for (uint64_t i = 0; i < 6; i++)
		CHECK_EQ(page(a, i * 4096 + 1)[0], i + 1);
	CHECK_EQ(close_small(a), 0);
}

TEST(bad_arguments)
{
	if (arena_leftover != NULL)
		close_small(arena_leftover);
	struct pst_arena *a = NULL;
	struct pst_arena_config cfg = { .size = 0 };
	CHECK_EQ(pst_arena_open(&cfg, &a), -ERR_INVAL);
	cfg.size = 12345;
	CHECK_EQ(pst_arena_open(&cfg, &a), -ERR_INVAL);
	cfg.size = PLAT_ARENA_MAX + PAGE;
	CHECK_EQ(pst_arena_open(&cfg, &a), -ERR_RANGE);
	CHECK_EQ(pst_arena_open(NULL, &a), -ERR_INVAL);
	cfg.size = 16ull << 20;
	CHECK_EQ(pst_arena_open(&cfg, &a), 0);
	struct pst_arena *b = NULL;
	arena_leftover = a;
	CHECK(pst_arena_open(&cfg, &b) != 0);      /* one arena at a time */
	CHECK_EQ(close_small(a), 0);
}

int main(void)
{
	check_begin("pst_arena_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_arena_test/init: plat_hosted_init\n");
		return 1;
	}
	RUN(lazy_page_in_64g);
	RUN(dirty_once_per_page_per_epoch);
	RUN(reprotect_bridges_clean_pages_only);
	RUN(cow_keeps_instant_contents);
	RUN(prepare_then_write_keeps_the_instant);
	RUN(prepare_racing_a_write_fault_keeps_the_instant);
	RUN(write_fault_around);
	RUN(unchanged_neighbours_cool_down);
	RUN(sequential_writes_take_the_pages_ahead);
	RUN(declare_unused);
	RUN(declaring_again_lists_only_pages_touched_since);
	RUN(concurrent_first_touch);
	RUN(leaf_reserve_starvation_waits);
	RUN(bad_arguments);
	return check_done();
}
