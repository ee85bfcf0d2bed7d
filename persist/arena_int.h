/* arena_int.h — the arena's internals shared by persist/arena.c (table, fault
 * path, open/close, declared-unused pages) and persist/arena_save.c (the
 * snapshot instant and the writer's side): the per-page state word, the arena
 * struct and the helpers both use. Layout and thread rules: arena.h. */
#ifndef PHANTOM_PST_ARENA_INT_H
#define PHANTOM_PST_ARENA_INT_H

#include <stdatomic.h>

#include "arena.h"

#define PG                PLAT_PAGE_SIZE
#define LEAF_SHIFT        12u                 /* 4096 pages = 16 MiB a leaf */
#define LEAF_PAGES        (1u << LEAF_SHIFT)
#define BOUNCE_COUNT      32u                 /* page-in buffers            */
#define NIL               UINT32_MAX          /* end of the dirty list      */
#define LEAF_BUSY         ((struct pst_pg *)1) /* a top slot being installed */
#define MERGE_GAP         32u                 /* clean pages a run may span */
#define PREPROTECT_MIN    512u                /* dirty pages worth a prepare */

#define RES_MASK          0x3u
#define RES_ABSENT        0x0u
#define RES_LOADING       0x1u
#define RES_PRESENT       0x2u
#define RES_SCRATCH       0x3u                /* volatile, touched: RW      */
#define ST_DIRTY          0x4u
#define ST_UNUSED         0x8u
#define SAVE_SHIFT        4u
#define SAVE_MASK         (0x7u << SAVE_SHIFT)
#define ST_HOT            0x80u               /* in the last cut's batch    */
#define ST_COLD           0x100u              /* saved unchanged: not HOT   */
#define SAVE(s)           (((s) & SAVE_MASK) >> SAVE_SHIFT)
#define SAVE_SET(s, v)    (((s) & ~SAVE_MASK) | ((uint32_t)(v) << SAVE_SHIFT))
#define SLOT_SHIFT        9u
#define SLOT_MASK         (~0u << SLOT_SHIFT)
#define SLOT(s)           ((s) >> SLOT_SHIFT)

/* S_PREPROT: a DIRTY page of the open epoch that pst_arena_epoch_prepare()
 * made read-only again, unwritten since (a write fault sets it back to
 * S_NONE before unprotecting): the instant need not protect it. */
enum { S_NONE, S_PENDING, S_PENDING_UNUSED, S_SAVING, S_COPYING, S_COPIED,
       S_PREPROT };

struct pst_pg {
	_Atomic uint32_t st;
	uint32_t next;           /* dirty list link; valid while DIRTY */
};

struct pst_arena {
	uint8_t *base;
	uint64_t npages;
	struct pst_pager pager;

	_Atomic(struct pst_pg *) *top;       /* NULL, LEAF_BUSY or a leaf */
	uint64_t ntop;
	_Atomic(struct pst_pg *) *reserve;   /* spare zeroed leaves       */
	uint32_t nreserve;

	uint8_t *bounce;                     /* BOUNCE_COUNT pages        */
	_Atomic uint32_t bounce_used;        /* bit i: buffer i taken     */

	uint8_t *cow;                        /* cow_n pages               */
	_Atomic uint64_t *cow_used;          /* bit per slot; tail bits 1 */
	uint32_t cow_n, cow_words;
	_Atomic uint32_t cow_free;

	/* Current epoch's dirty pages: a push-only stack linked through the
	 * leaves; only the snapshot instant (world stopped) takes it. */
	_Atomic uint32_t dirty_head;
	_Atomic uint32_t dirty_count;

	void (*test_dirty_hook)(void *ctx, uint32_t pgno);
	void *test_dirty_ctx;
	uint32_t around;             /* write fault-around window (pages)     */
	/* The volatile range [lo, hi) as lo << 32 | hi, 0 while none: set
	 * once per open (pst_arena_set_volatile), read by the fault path. */
	_Atomic uint64_t volatile_range;
	uint32_t *hot_prev;          /* a freed batch's pages: HOT to retire  */
	size_t nhot_prev;
	_Atomic uint64_t around_pages;
	_Atomic uint64_t read_faults, write_faults, page_ins, pager_hits,
		cow_copies, cow_waits, cow_wait_ns, leaf_waits, volatile_faults,
		prep_faults;
};

#define LOAD(p)        atomic_load_explicit((p), memory_order_acquire)
#define CAS(p, e, v)   atomic_compare_exchange_strong_explicit((p), (e), (v), \
				memory_order_acq_rel, memory_order_acquire)
#define BUMP(p, n)     atomic_fetch_add_explicit((p), (n), memory_order_relaxed)

static inline void *page_addr(const struct pst_arena *a, uint32_t pgno)
{
	return a->base + (uint64_t)pgno * PG;
}

/* Waiting inside the fault handler: yield first, then sleep briefly, both
 * safe there (sched_yield/nanosleep hosted; the scheduler on bare metal). */
static inline void backoff(unsigned *spins)
{
	if ((*spins)++ < 100)
		plat_thread_yield();
	else
		plat_sleep_ns(20000);
}

/* Entry of a page known to have one (it was dirtied), or NULL. */
static inline struct pst_pg *pg_lookup(struct pst_arena *a, uint32_t pgno)
{
	if (pgno >= a->npages)
		return NULL;
	struct pst_pg *l = LOAD(&a->top[pgno >> LEAF_SHIFT]);
	if (l == NULL || l == LEAF_BUSY)
		return NULL;
	return &l[pgno & (LEAF_PAGES - 1)];
}

static inline void cow_release(struct pst_arena *a, uint32_t slot)
{
	atomic_fetch_and(&a->cow_used[slot / 64], ~(1ull << (slot % 64)));
	atomic_fetch_add(&a->cow_free, 1);
}

#endif
