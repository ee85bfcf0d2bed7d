/* ktest_persist.c — test=persist: the portable persist/ arena, the same code
 * the hosted node runs, on the bare-metal fault path: lazy page-in from a
 * pager, dirty tracking through write faults, the epoch instant,
 * copy-on-write of a page written while it is still being saved (page by
 * page, fault-around off), then write fault-around: one trap unprotects the
 * window's pages of the closing epoch, each copied first. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ktest.h"
#include "persist/arena.h"
#include "plat.h"

#define PG PLAT_PAGE_SIZE
#define KT_FAULTED() __asm__ volatile("" ::: "memory")

static uint8_t pattern(uint64_t pgno, unsigned i)
{
	return (uint8_t)(pgno * 31 + i * 7 + 1);
}

static volatile int pager_calls;

/* Pages 0..7 exist in the "store"; the rest never did (zeros). */
static int test_page_in(void *ctx, uint64_t pgno, void *buf, bool *present)
{
	(void)ctx;
	pager_calls++;
	*present = pgno < 8;
	if (*present)
		for (unsigned i = 0; i < PG; i++)
			((uint8_t *)buf)[i] = pattern(pgno, i);
	return 0;
}

void ktest_persist(void)
{
	static uint8_t buf[PG];
	struct pst_arena_config cfg = { .size = 64ul << 20, .write_around = 1,
					.pager = { .page_in = test_page_in } };
	struct pst_arena *a = NULL;
	struct pst_arena_stats st;

	KT_CHECK(pst_arena_open(&cfg, &a) == 0, "open");
	if (a == NULL)
		kt_finish();
	volatile uint8_t *p = pst_arena_base(a);
	KT_CHECK((uint64_t)p == PLAT_ARENA_BASE, "base_is_plat_arena_base");

	uint8_t r = p[3 * PG + 10];
	KT_FAULTED();
	pst_arena_stats(a, &st);
	KT_CHECK(r == pattern(3, 10) && st.read_faults == 1 && st.pager_hits == 1 &&
		 pager_calls == 1, "lazy_page_in_from_pager");
	r = p[20 * PG + 5];
	KT_FAULTED();
	pst_arena_stats(a, &st);
	KT_CHECK(r == 0 && st.page_ins == 2 && st.pager_hits == 1, "absent_page_reads_zero");

	p[5 * PG] = 0x77;                       /* page-in and dirty at once */
	KT_FAULTED();
	p[3 * PG] = 0x33;                       /* present, read-only: dirty */
	KT_FAULTED();
	p[3 * PG + 1] = 0x34;                   /* already dirty: no fault */
	KT_FAULTED();
	pst_arena_stats(a, &st);
	KT_CHECK(st.write_faults == 2 && p[5 * PG + 1] == pattern(5, 1),
		 "dirty_tracking_once_per_page");

	struct pst_arena_batch b = { 0 };
	KT_CHECK(pst_arena_epoch_close(a, &b) == 0 && b.count == 2 && b.pages[0] == 3 &&
		 b.pages[1] == 5, "epoch_batch");

	/* Page 5 is pending save: this write must copy it first. */
	p[5 * PG + 2] = 0x55;
	KT_FAULTED();
	pst_arena_stats(a, &st);
	KT_CHECK(st.cow_copies == 1 && p[5 * PG + 2] == 0x55, "cow_on_pending_write");
	const void *c = NULL;
	int kind = pst_arena_save_page(a, 5, buf, &c);
	const uint8_t *cc = c;
	KT_CHECK(kind == PST_SAVE_PAGE && cc[0] == 0x77 && cc[2] == pattern(5, 2),
		 "saved_contents_are_the_instant");
	pst_arena_save_done(a, 5);
	kind = pst_arena_save_page(a, 3, buf, &c);
	cc = c;
	KT_CHECK(kind == PST_SAVE_PAGE && cc[0] == 0x33 && cc[1] == 0x34 && cc[2] == pattern(3, 2),
		 "saved_unchanged_page");
	pst_arena_save_done(a, 3);
	pst_arena_batch_free(&b);

	p[3 * PG + 9] = 1;                      /* re-protected at the instant */
	KT_FAULTED();
	pst_arena_stats(a, &st);
	KT_CHECK(st.write_faults == 4, "next_epoch_faults_again");
	KT_CHECK(pst_arena_close(a) == 0, "close");

	struct pst_arena_config around = { .size = 64ul << 20 };
	KT_CHECK(pst_arena_open(&around, &a) == 0, "open_with_fault_around");
	if (a == NULL)
		kt_finish();
	p = pst_arena_base(a);
	for (unsigned i = 4; i-- > 0;) {         /* downwards: no write follows */
		p[i * PG] = (uint8_t)(i + 1);    /* a dirty page, so none takes */
		KT_FAULTED();                    /* the fresh pages ahead        */
	}
	KT_CHECK(pst_arena_epoch_close(a, &b) == 0 && b.count == 4, "around_epoch_batch");
	for (unsigned i = 0; i < 4; i++) {         /* page 0's trap takes all */
		p[i * PG + 1] = (uint8_t)(0x20 + i);
		KT_FAULTED();
	}
	pst_arena_stats(a, &st);
	KT_CHECK(st.write_faults == 5 && st.around_pages == 3 && st.cow_copies == 4,
		 "fault_around_one_trap");
	bool instant = true;
	for (uint32_t i = 0; i < b.count; i++) {
		kind = pst_arena_save_page(a, b.pages[i], buf, &c);
		cc = c;
		instant = instant && kind == PST_SAVE_PAGE &&
			  cc[0] == (uint8_t)(b.pages[i] + 1) && cc[1] == 0;
		pst_arena_save_done(a, b.pages[i]);
	}
	KT_CHECK(instant, "fault_around_keeps_the_instant");
	pst_arena_batch_free(&b);
	KT_CHECK(pst_arena_epoch_close(a, &b) == 0 && b.count == 4, "around_next_epoch_lists_each_once");
	pst_arena_batch_free(&b);
	KT_CHECK(pst_arena_close(a) == 0, "close_with_fault_around");

	/* Fresh-page fault-ahead on the page tables: 511's write follows a
	 * dirty 510, so it takes 512..575 (past a 2 MiB table boundary) by
	 * one protection change; the pages read zeros and take writes with
	 * no further trap, and a page that held data and was declared unused
	 * comes back as zeros by protection alone. */
	struct pst_arena_config fresh = { .size = 64ul << 20 };
	KT_CHECK(pst_arena_open(&fresh, &a) == 0, "open_fresh");
	if (a == NULL)
		kt_finish();
	p = pst_arena_base(a);
	p[600 * PG] = 0x66;
	KT_FAULTED();
	KT_CHECK(pst_arena_declare_unused(a, 600, 1) == 0, "fresh_declare");
	p[510 * PG] = 1;
	KT_FAULTED();
	p[511 * PG] = 1;
	KT_FAULTED();
	pst_arena_stats(a, &st);
	uint64_t wf = st.write_faults;
	KT_CHECK(st.around_pages == 64, "fresh_ahead_takes_the_window");
	p[530 * PG + 9] = 5;
	KT_FAULTED();
	bool zeros = true;
	for (uint32_t q = 512; q < 576; q++)
		zeros = zeros && p[q * PG] == 0 && p[q * PG + PG - 1] == 0;
	KT_FAULTED();
	pst_arena_stats(a, &st);
	KT_CHECK(zeros && st.write_faults == wf && st.read_faults == 0,
		 "fresh_pages_read_zeros_write_without_trap");
	uint8_t r600 = p[600 * PG];
	KT_FAULTED();
	KT_CHECK(r600 == 0, "declared_unused_page_reads_zeros");
	KT_CHECK(pst_arena_epoch_close(a, &b) == 0, "fresh_epoch");
	bool saved = true;
	for (uint32_t i = 0; i < b.count; i++) {
		kind = pst_arena_save_page(a, b.pages[i], buf, &c);
		cc = c;
		if (b.pages[i] == 530)
			saved = saved && kind == PST_SAVE_PAGE && cc[9] == 5;
		else if (b.pages[i] == 575)
			saved = saved && kind == PST_SAVE_PAGE && cc[0] == 0;
		pst_arena_save_done(a, b.pages[i]);
	}
	KT_CHECK(saved && b.count == 67, "fresh_pages_listed_and_saved");
	pst_arena_batch_free(&b);
	KT_CHECK(pst_arena_close(a) == 0, "close_fresh");
	kt_finish();
}
