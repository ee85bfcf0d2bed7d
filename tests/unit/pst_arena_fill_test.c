/* pst_arena_fill_test.c — the arena's guesses about memory written in
 * address order (arena.h, write fault-around): cooled HOT pages refilled
 * in order go the sequential way; a write to a prepared page opens the
 * prepared pages after it. (Fresh memory filled in order is not made HOT:
 * pst_arena_fresh_test.) */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "../../kernel/hosted/hosted.h"
#include "../../persist/arena.h"
#include "arena_pages.h"

/* A 16 MiB arena, no pager, a 64-slot COW pool, fault-around window 16. */
static struct pst_arena *open_around16(void)
{
	struct pst_arena_config cfg = { .size = 16ull << 20, .cow_pages = 64,
					.write_around = 16 };
	return arena_open_test(&cfg);
}

/* HOT pages whose guess failed (saved unchanged: COLD as well) that the
 * program then refills in address order: the first write after a dirty
 * page takes the cooled pages after it, as a sequential write, rather
 * than a HOT window that skips them (one trap per page). */
TEST(refilling_cooled_hot_pages_in_order)
{
	struct pst_arena *a = open_around16();
	CHECK(a != NULL);
	struct pst_arena_batch b;
	for (uint32_t p = 40; p-- > 20;)             /* each its own trap */
		page(a, p)[0] = 1;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 20);
	arena_save_batch(a, &b, 20, 40);                   /* HOT, and COLD */
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	page(a, 19)[0] = 2;
	for (uint32_t p = 20; p < 36; p++)
		page(a, p)[1] = 2;
	pst_arena_stats(a, &st);
	CHECKF(st.write_faults - st0.write_faults == 2,
	       "%llu traps refilling 16 cooled pages in order",
	       (unsigned long long)(st.write_faults - st0.write_faults));
	CHECK_EQ(st.around_pages - st0.around_pages, 15);
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, 17);
	arena_save_batch(a, &b, 0, 0);
	CHECK_EQ(arena_close_test(a), 0);
}

/* A fill taken ahead, then re-protected by a prepare before it was
 * written: the first write to a prepared page opens the prepared pages
 * after it too, so the fill goes on with one trap, not one per page; the
 * instant still protects them all (a write after it is copied first). */
TEST(write_after_prepare_opens_the_prepared_pages_ahead)
{
	enum { N = 600 };                        /* above the prepare minimum */
	struct pst_arena *a = open_around16();
	CHECK(a != NULL);
	for (uint32_t p = 0; p < N; p++)         /* in order: taken ahead */
		page(a, p)[0] = 1;
	struct pst_arena_stats st0, st;
	pst_arena_stats(a, &st0);
	CHECK(st0.write_faults + st0.around_pages >= N + 5);
	CHECK_EQ(pst_arena_epoch_prepare(a), 0);
	for (uint32_t p = N - 2; p < N + 5; p++)
		page(a, p)[0] = 2;
	pst_arena_stats(a, &st);
	CHECKF(st.prep_faults - st0.prep_faults == 1,
	       "%llu traps writing 7 prepared pages in order",
	       (unsigned long long)(st.prep_faults - st0.prep_faults));
	CHECK_EQ(st.write_faults, st0.write_faults);  /* nothing listed */
	CHECK_EQ(st.around_pages, st0.around_pages);
	struct pst_arena_batch b;
	CHECK_EQ(pst_arena_epoch_close(a, &b), 0);
	CHECK_EQ(b.count, st0.write_faults + st0.around_pages);
	pst_arena_stats(a, &st0);
	page(a, N + 3)[0] = 3;                   /* after the instant */
	pst_arena_stats(a, &st);
	CHECK_EQ(st.cow_copies, st0.cow_copies + 1);
	uint8_t buf[PAGE];
	const void *c;
	for (uint32_t i = 0; i < b.count; i++) {
		uint32_t p = b.pages[i];
		CHECK_EQ(pst_arena_save_page(a, p, buf, &c), PST_SAVE_PAGE);
		if (p >= N - 2 && p < N + 5)
			CHECKF(((const uint8_t *)c)[0] == 2, "page %u", p);
		pst_arena_save_done(a, p);
	}
	pst_arena_batch_free(&b);
	CHECK_EQ(arena_close_test(a), 0);
}

int main(void)
{
	check_begin("pst_arena_fill_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_arena_fill_test/init: plat_hosted_init\n");
		return 1;
	}
	RUN(refilling_cooled_hot_pages_in_order);
	RUN(write_after_prepare_opens_the_prepared_pages_ahead);
	return check_done();
}
