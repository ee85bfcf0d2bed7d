/* pst_arena_fresh_test.c — fresh-page fault-ahead (arena.h): a write that
 * pages in zeros right after a page dirty in this epoch takes the window's
 * next pages that read as zeros too, in one trap. The tests check the trap
 * count of a sequential fill, that every page taken is listed and saved
 * with what was written (zeros if nothing), and where a run stops: at a
 * page the store holds (asked through pager.unstored_run), at a page
 * already present, at the volatile range; without unstored_run only
 * declared-unused pages are taken; reads and writes out of order take
 * nothing. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../kernel/hosted/hosted.h"
#include "../../persist/arena.h"
#include "arena_pages.h"

/* A store holding pages [STORED_LO, STORED_HI), each filled with
 * (p & 0xff) ^ 0x5a; every other page it never had. */
#define STORED_LO 100u
#define STORED_HI 104u

static bool stored(uint64_t p) { return p >= STORED_LO && p < STORED_HI; }

static int test_page_in(void *ctx, uint64_t pgno, void *buf, bool *present)
{
	(void)ctx;
	*present = stored(pgno);
	if (*present)
		memset(buf, (int)((pgno & 0xff) ^ 0x5a), PAGE);
	return 0;
}

static int test_unstored_run(void *ctx, uint64_t pgno, uint32_t max,
			     uint32_t *count)
{
	(void)ctx;
	uint32_t n = 0;
	while (n < max && !stored(pgno + n))
		n++;
	*count = n;
	return 0;
}

/* A 16 MiB arena, fault-around window 16; with the pager above (and its
 * unstored_run when `runs`), or none (every page starts as zeros). */
static struct pst_arena *open_arena(bool pager, bool runs)
{
	struct pst_arena_config cfg = { .size = 16ull << 20, .cow_pages = 64,
					.write_around = 16 };
	if (pager)
		cfg.pager = (struct pst_pager){ .page_in = test_page_in,
			.unstored_run = runs ? test_unstored_run : NULL };
	return arena_open_test(&cfg);
}

/* The instant, then every listed page saved: how many were listed, and
 * whether each held its expected byte (want(p)) throughout. */
static int save_all(struct pst_arena *a, uint8_t (*want)(uint32_t),
		    uint32_t *listed, uint32_t *bad)
{
	struct pst_arena_batch b;
	int rc = pst_arena_epoch_close(a, &b);
	if (rc != 0)
		return rc;
	uint8_t buf[PAGE];
	*listed = (uint32_t)b.count;
	*bad = 0;
	for (uint32_t i = 0; i < b.count; i++) {
		const void *c = NULL;
		uint32_t p = b.pages[i];
		if (pst_arena_save_page(a, p, buf, &c) != PST_SAVE_PAGE ||
		    !page_is(c, want(p)))
			(*bad)++;
		pst_arena_save_done(a, p);
	}
	pst_arena_batch_free(&b);
	return 0;
}

static uint8_t fill_byte(uint32_t p) { return p < 64 ? (uint8_t)(p | 0x80) : 0; }

/* 64 fresh pages filled in order: the first page-in takes nothing (no
 * page before it is dirty), the second takes the 16 after it, and so on:
 * 5 traps. The pages past the fill that the last run took are listed and
 * saved as zeros. */
TEST(sequential_fill_traps_once_per_window)
{
	struct pst_arena *a = open_arena(false, false);
	CHECK(a != NULL);
	struct pst_arena_stats st;
	for (uint32_t p = 0; p < 64; p++)
		memset(page(a, p), fill_byte(p), PAGE);
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, 5);                 /* 0, 1, 18, 35, 52 */
	CHECK_EQ(st.around_pages, 64);                /* 2..17 ... 53..68 */
	CHECK_EQ(st.page_ins, 69);
	CHECK(page_is(page(a, 68), 0));
	uint32_t listed, bad;
	CHECK_EQ(save_all(a, fill_byte, &listed, &bad), 0);
	CHECK_EQ(listed, 69);
	CHECK_EQ(bad, 0);
	/* Taken, the pages are ordinary: the next epoch traps on a write,
	 * and, fresh memory filled in order, they are not HOT: the trap
	 * takes no window of neighbours along. */
	page(a, 68)[0] = 1;
	page(a, 30)[0] = 1;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, 7);
	CHECK_EQ(st.around_pages, 64);
	CHECK_EQ(arena_close_test(a), 0);
}

static uint8_t stored_byte(uint32_t p)
{
	return stored(p) ? (uint8_t)((p & 0xff) ^ 0x5a) : 0;
}

/* A run stops at the first page the store holds: that page comes from the
 * pager on its own first touch, with its stored contents. */
TEST(stops_at_a_stored_page)
{
	struct pst_arena *a = open_arena(true, true);
	CHECK(a != NULL);
	page(a, 90)[0] = 0;
	page(a, 91)[0] = 0;                           /* takes 92..99 */
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.write_faults, 2);
	CHECK_EQ(st.around_pages, 8);
	CHECK_EQ(st.pager_hits, 0);
	CHECK(page_is(page(a, 100), stored_byte(100)));
	pst_arena_stats(a, &st);
	CHECK_EQ(st.pager_hits, 1);
	uint32_t listed, bad;
	CHECK_EQ(save_all(a, stored_byte, &listed, &bad), 0);
	CHECK_EQ(listed, 10);                         /* 90..99; 100 was read */
	CHECK_EQ(bad, 0);
	CHECK_EQ(arena_close_test(a), 0);
}

/* Without unstored_run the arena cannot tell a fresh page from a stored
 * one, so only pages declared unused (zeros by declaration) are taken;
 * they are then ordinary pages, listed as contents, not as unused. */
TEST(without_unstored_run_only_unused_pages)
{
	struct pst_arena *a = open_arena(true, false);
	CHECK(a != NULL);
	page(a, 10)[0] = 0;
	page(a, 11)[0] = 0;                           /* 12.. unknown: none */
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.around_pages, 0);
	uint32_t listed, bad;
	CHECK_EQ(save_all(a, stored_byte, &listed, &bad), 0);
	CHECK_EQ(listed, 2);
	CHECK_EQ(pst_arena_declare_unused(a, 200, 6), 0);
	CHECK_EQ(save_all(a, stored_byte, &listed, &bad), 0);   /* 6 unused */
	CHECK_EQ(bad, 6);                                       /* not pages */
	page(a, 198)[0] = 0;
	page(a, 199)[0] = 0;                          /* takes 200..205 */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.around_pages, 6);
	CHECK(page_is(page(a, 205), 0));
	CHECK_EQ(save_all(a, stored_byte, &listed, &bad), 0);
	CHECK_EQ(listed, 8);
	CHECK_EQ(bad, 0);
	CHECK_EQ(arena_close_test(a), 0);
}

/* A run stops at a page already present (read earlier) and at the
 * volatile range, whose first touch stays its own. */
TEST(stops_at_present_and_volatile_pages)
{
	struct pst_arena *a = open_arena(false, false);
	CHECK(a != NULL);
	CHECK(page_is(page(a, 24), 0));               /* present, clean */
	page(a, 20)[0] = 1;
	page(a, 21)[0] = 1;                           /* takes 22, 23 */
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.around_pages, 2);
	CHECK_EQ(pst_arena_set_volatile(a, 300, 16), 0);
	page(a, 298)[0] = 1;
	page(a, 299)[0] = 1;                          /* 300 is volatile */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.around_pages, 2);
	CHECK_EQ(st.volatile_faults, 0);
	page(a, 300)[0] = 1;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.volatile_faults, 1);
	CHECK_EQ(arena_close_test(a), 0);
}

/* Only a write that follows a dirty page takes pages ahead: not reads in
 * order, not writes in reverse order. */
TEST(reads_and_unordered_writes_take_nothing)
{
	struct pst_arena *a = open_arena(false, false);
	CHECK(a != NULL);
	for (uint32_t p = 0; p < 32; p++)
		CHECK(page_is(page(a, p), 0));
	for (uint32_t p = 96; p-- > 64;)
		page(a, p)[0] = 1;
	struct pst_arena_stats st;
	pst_arena_stats(a, &st);
	CHECK_EQ(st.read_faults, 32);
	CHECK_EQ(st.write_faults, 32);
	CHECK_EQ(st.around_pages, 0);
	CHECK_EQ(arena_close_test(a), 0);
}

int main(void)
{
	check_begin("pst_arena_fresh_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_arena_fresh_test/init: plat_hosted_init\n");
		return 1;
	}
	RUN(sequential_fill_traps_once_per_window);
	RUN(stops_at_a_stored_page);
	RUN(without_unstored_run_only_unused_pages);
	RUN(stops_at_present_and_volatile_pages);
	RUN(reads_and_unordered_writes_take_nothing);
	return check_done();
}
