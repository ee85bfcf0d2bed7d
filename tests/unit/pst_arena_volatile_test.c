/* pst_arena_volatile_test.c — the arena's volatile range (the VM's nursery):
 * its pages are zeros on first touch without the pager, never trapped on,
 * listed or saved, across instants; its neighbours are tracked as before and
 * neither fault-around nor the instant's re-protection reaches into it; what
 * it held at the call is dropped as by pst_arena_declare_unused; racing
 * first touches fill a page once; and the calls it refuses. The reopen
 * through the image layer is in pst_image_test. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../kernel/hosted/hosted.h"
#include "../../persist/arena.h"
#include "arena_pages.h"


/* A pager with contents for every page, (p & 0xff) ^ 0x5a, so a page read
 * as zeros was not asked for. Runs in the fault handler: atomics only. */
static atomic_ulong pager_calls;

static int test_page_in(void *ctx, uint64_t pgno, void *buf, bool *present)
{
	(void)ctx;
	atomic_fetch_add(&pager_calls, 1);
	memset(buf, (int)((pgno & 0xff) ^ 0x5a), PAGE);
	*present = true;
	return 0;
}

/* A 16 MiB arena with the pager, a 64-slot COW pool and a fault-around
 * window of `around` pages (1: off). */
static struct pst_arena *open_arena(uint32_t around)
{
	atomic_store(&pager_calls, 0);
	struct pst_arena_config cfg = { .size = 16ull << 20, .cow_pages = 64,
		.write_around = around,
		.pager = { .page_in = test_page_in } };
	return arena_open_test(&cfg);
}

/* One batch saved and freed: how many pages went as contents and as
 * unused, how many of each lie in [lo, hi), and save_page failures. */
struct tally {
	unsigned pages, unused, pages_in, unused_in, bad;
};

static struct tally save_batch(struct pst_arena *a, struct pst_arena_batch *b,
			       uint32_t lo, uint32_t hi)
{
	struct tally t = { 0 };
	uint8_t buf[PAGE];
	for (size_t i = 0; i < b->count; i++) {
		uint32_t p = b->pages[i];
		const void *c;
		int k = pst_arena_save_page(a, p, buf, &c);
		bool in = p >= lo && p < hi;
		if (k == PST_SAVE_PAGE) {
			t.pages++;
			t.pages_in += in;
		} else if (k == PST_SAVE_UNUSED) {
			t.unused++;
			t.unused_in += in;
		} else {
			t.bad++;
		}
		pst_arena_save_done(a, p);
	}
	pst_arena_batch_free(b);
	return t;
}

/* Read or written, a volatile page faults once (zeros, no pager) and never
 * again, through any number of instants, none of which lists it. */
TEST(volatile_pages_are_never_tracked)
{
	enum { LO = 96, N = 32 };
	struct pst_arena *a = open_arena(16);
	CHECK(a != NULL);
	CHECK_EQ(pst_arena_set_volatile(a, LO, N), 0);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	struct tally t = save_batch(a, &b, LO, LO + N);
	CHECK_EQ(t.unused_in, N);                /* what the range held */
	CHECK_EQ(t.pages + t.unused + t.bad, N);
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	for (uint32_t p = LO; p < LO + N / 2; p++)
		CHECKF(page_is(page(a, p), 0), "page %u not zeros", p);
	for (uint32_t p = LO; p < LO + N; p++)
		memset(page(a, p), (int)p, PAGE);
	pst_arena_stats(a, &st);
	CHECK_EQ(st.volatile_faults - st0.volatile_faults, N);
	CHECK_EQ(st.read_faults, st0.read_faults);
	CHECK_EQ(st.write_faults, st0.write_faults);
	CHECK_EQ(st.page_ins, st0.page_ins);
	CHECK_EQ(st.around_pages, st0.around_pages);
	CHECK_EQ(atomic_load(&pager_calls), 0);
	for (int e = 0; e < 3; e++) {
		CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
		CHECK_EQ(b.count, 0);
		pst_arena_batch_free(&b);
		for (uint32_t p = LO; p < LO + N; p++)
			page(a, p)[e + 1] = (uint8_t)e;
	}
	pst_arena_stats(a, &st);
	CHECK_EQ(st.volatile_faults - st0.volatile_faults, N);  /* no trap */
	CHECK_EQ(st.write_faults, st0.write_faults);
	CHECK_EQ(st.cow_copies, 0);
	for (uint32_t p = LO; p < LO + N; p++)
		CHECK(page(a, p)[0] == (uint8_t)p && page(a, p)[3] == 2);
	CHECK_EQ(arena_close_test(a), 0);
}

/* Range 20..27 inside the HOT window 16..31: a write to page 16 takes the
 * HOT neighbours 17..19 and 28..31 but no volatile page, the instant's
 * re-protection of 16..19 and 28..31 does not bridge across the range, and
 * a sequential write (19 after 18) takes the present pages after the range
 * but none in it. */
TEST(neighbours_stay_tracked_around_the_range)
{
	enum { LO = 20, HI = 28 };
	struct pst_arena *a = open_arena(16);
	CHECK(a != NULL);
	for (uint32_t p = 16; p < 32; p++)
		memset(page(a, p), (int)p, PAGE);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 16);
	save_batch(a, &b, 0, 0);                 /* 16..31 HOT */
	CHECK_EQ(pst_arena_set_volatile(a, LO, HI - LO), 0);
	struct pst_arena_stats st0, st;
	for (int round = 0; round < 2; round++) {
		pst_arena_stats(a, &st0);
		page(a, 16)[1] = 1;
		for (uint32_t p = LO; p < HI; p++)
			page(a, p)[0] = 0xee;
		pst_arena_stats(a, &st);
		CHECK_EQ(st.write_faults, st0.write_faults + 1);
		uint64_t around = st.around_pages - st0.around_pages;
		CHECKF(around == 7, "round %d: fault-around took %llu pages",
		       round, (unsigned long long)around);
		/* Round 0 touches the range first; round 1 finds it still
		 * writable after an instant that protected both sides. */
		CHECK_EQ(st.volatile_faults - st0.volatile_faults,
			 round == 0 ? HI - LO : 0);
		CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
		struct tally t = save_batch(a, &b, LO, HI);
		CHECK_EQ(t.bad, 0);
		CHECK_EQ(t.pages, 8);                /* 16..19, 28..31 */
		CHECK_EQ(t.pages_in, 0);
		CHECK_EQ(t.unused_in, round == 0 ? HI - LO : 0);
	}
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);   /* retires HOT */
	save_batch(a, &b, 0, 0);
	pst_arena_stats(a, &st0);
	page(a, 18)[2] = 2;
	page(a, 19)[2] = 2;                          /* takes 28..31 ahead */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, st0.write_faults + 2);
	CHECK_EQ(st.around_pages, st0.around_pages + 4);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	struct tally t = save_batch(a, &b, LO, HI);
	CHECK_EQ(t.pages, 6);
	CHECK_EQ(t.pages_in + t.unused_in + t.unused + t.bad, 0);
	for (uint32_t p = LO; p < HI; p++)
		CHECK(page(a, p)[0] == 0xee);
	CHECK(page_is(page(a, 30), 30));
	CHECK_EQ(arena_close_test(a), 0);
}

/* At the call, a page of the closing epoch not yet saved (40) is copied
 * and saved with its instant contents, then reported unused with one
 * written in the open epoch (41) and two untouched (42, 43); afterwards
 * they read zeros while the neighbours 39 and 44 keep their data. */
TEST(what_the_range_held_is_dropped)
{
	struct pst_arena *a = open_arena(1);
	CHECK(a != NULL);
	memset(page(a, 39), 0x39, PAGE);
	memset(page(a, 40), 0x40, PAGE);
	memset(page(a, 44), 0x44, PAGE);
	struct pst_arena_batch b1, b2;
	CHECK_EQ(pst_arena_epoch_close(a, &b1), 0);
	CHECK_EQ(b1.count, 3);
	memset(page(a, 41), 0x41, PAGE);
	CHECK_EQ(pst_arena_set_volatile(a, 40, 4), 0);
	uint8_t buf[PAGE];
	const void *c;
	CHECK_EQ(pst_arena_save_page(a, 40, buf, &c), PST_SAVE_PAGE);
	CHECK(page_is(c, 0x40));
	pst_arena_save_done(a, 40);
	CHECK_EQ(pst_arena_save_page(a, 39, buf, &c), PST_SAVE_PAGE);
	pst_arena_save_done(a, 39);
	CHECK_EQ(pst_arena_save_page(a, 44, buf, &c), PST_SAVE_PAGE);
	pst_arena_save_done(a, 44);
	pst_arena_batch_free(&b1);
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.cow_copies, 1);
	for (uint32_t p = 40; p < 44; p++)
		CHECKF(page_is(page(a, p), 0), "page %u kept its data", p);
	CHECK(page_is(page(a, 39), 0x39) && page_is(page(a, 44), 0x44));
	CHECK_EQ(pst_arena_epoch_close(a, &b2), 0);
	struct tally t = save_batch(a, &b2, 40, 44);
	CHECK_EQ(t.unused_in, 4);
	CHECK_EQ(t.pages + t.unused + t.bad, 4);
	CHECK_EQ(arena_close_test(a), 0);
}

/* Two threads first-touch the same volatile pages in the same order, each
 * writing its own byte: a page is filled once, so no write is wiped by a
 * second fill, and nothing is listed. */
enum { RACE_PAGES = 1024 };
static struct pst_arena *race_arena;

static void racer(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	for (uint32_t p = 0; p < RACE_PAGES; p++)
		((volatile uint8_t *)page(race_arena, p))[8 + t] = 1;
}

TEST(concurrent_first_touch_fills_once)
{
	race_arena = open_arena(1);
	CHECK(race_arena != NULL);
	CHECK_EQ(pst_arena_set_volatile(race_arena, 0, RACE_PAGES), 0);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(race_arena, &b), 0);
	save_batch(race_arena, &b, 0, 0);
	plat_thread *t[2];
	for (uintptr_t i = 0; i < 2; i++)
		CHECK_EQ(plat_thread_create(&t[i], racer, (void *)i, "racer"),
			 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(plat_thread_join(t[i]), 0);
	for (uint32_t p = 0; p < RACE_PAGES; p++) {
		const uint8_t *pg = page(race_arena, p);
		CHECKF(pg[8] == 1 && pg[9] == 1, "page %u lost a write", p);
	}
	struct pst_arena_stats st;
	pst_arena_stats(race_arena, &st);
	CHECK(st.volatile_faults >= RACE_PAGES);
	CHECK_EQ(st.write_faults + st.read_faults + st.page_ins, 0);
	CHECK_EQ(pst_arena_epoch_close(race_arena, &b), 0);
	CHECK_EQ(b.count, 0);
	pst_arena_batch_free(&b);
	CHECK_EQ(arena_close_test(race_arena), 0);
}

/* Refused: no arena, count 0, past the end (also by overflow), a second
 * range; the same range again is a no-op. A declaration over the range
 * skips its pages: a scratch page keeps its data and is not listed. */
TEST(refusals_and_declarations_over_the_range)
{
	struct pst_arena *a = open_arena(1);
	CHECK(a != NULL);
	uint64_t n = pst_arena_pages(a);
	CHECK_EQ(pst_arena_set_volatile(NULL, 10, 4), -ERR_INVAL);
	CHECK_EQ(pst_arena_set_volatile(a, 10, 0), -ERR_INVAL);
	CHECK_EQ(pst_arena_set_volatile(a, n, 1), -ERR_INVAL);
	CHECK_EQ(pst_arena_set_volatile(a, n - 1, 2), -ERR_INVAL);
	CHECK_EQ(pst_arena_set_volatile(a, UINT64_MAX - 1, 4), -ERR_INVAL);
	CHECK_EQ(pst_arena_set_volatile(a, 2, UINT64_MAX), -ERR_INVAL);
	CHECK_EQ(pst_arena_set_volatile(a, 10, 4), 0);
	CHECK_EQ(pst_arena_set_volatile(a, 10, 4), 0);
	CHECK_EQ(pst_arena_set_volatile(a, 10, 5), -ERR_INVAL);
	CHECK_EQ(pst_arena_set_volatile(a, 11, 3), -ERR_INVAL);
	CHECK_EQ(pst_arena_set_volatile(a, 100, 4), -ERR_INVAL);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 4);                    /* the repeat listed nothing */
	save_batch(a, &b, 0, 0);
	memset(page(a, 11), 0x77, PAGE);
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	CHECK_EQ(pst_arena_declare_unused(a, 8, 8), 0);
	CHECK(page_is(page(a, 11), 0x77));
	page(a, 11)[0] = 1;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.volatile_faults, st0.volatile_faults);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	uint32_t want[] = { 8, 9, 14, 15 };
	CHECK_EQ(b.count, 4);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(b.pages[i], want[i]);
	struct tally t = save_batch(a, &b, 0, 0);
	CHECK_EQ(t.unused, 4);
	CHECK_EQ(arena_close_test(a), 0);
}

int main(void)
{
	check_begin("pst_arena_volatile_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_arena_volatile_test/init: "
		       "plat_hosted_init\n");
		return 1;
	}
	RUN(volatile_pages_are_never_tracked);
	RUN(neighbours_stay_tracked_around_the_range);
	RUN(what_the_range_held_is_dropped);
	RUN(concurrent_first_touch_fills_once);
	RUN(refusals_and_declarations_over_the_range);
	return check_done();
}
