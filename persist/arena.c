/* arena.c — the persistent arena: reservation, lazy page-in, the fault handler
 * (dirty tracking and copy-on-write of pages still being saved), the per-page
 * state table, the COW slot pool and the snapshot instant's re-protection.
 * State word layout and thread rules: arena.h. Everything the fault handler
 * touches is preallocated; it synchronises only through atomics. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define PG                PLAT_PAGE_SIZE
#define LEAF_SHIFT        12u                 /* 4096 pages = 16 MiB a leaf */
#define LEAF_PAGES        (1u << LEAF_SHIFT)
#define BOUNCE_COUNT      32u                 /* page-in buffers            */
#define NIL               UINT32_MAX          /* end of the dirty list      */
#define LEAF_BUSY         ((struct pst_pg *)1) /* a top slot being installed */
#define MERGE_GAP         32u                 /* clean pages a run may span */

#define RES_MASK          0x3u
#define RES_ABSENT        0x0u
#define RES_LOADING       0x1u
#define RES_PRESENT       0x2u
#define ST_DIRTY          0x4u
#define ST_UNUSED         0x8u
#define SAVE_SHIFT        4u
#define SAVE_MASK         (0xfu << SAVE_SHIFT)
#define SAVE(s)           (((s) & SAVE_MASK) >> SAVE_SHIFT)
#define SAVE_SET(s, v)    (((s) & ~SAVE_MASK) | ((uint32_t)(v) << SAVE_SHIFT))
#define SLOT_SHIFT        8u
#define SLOT_MASK         (~0u << SLOT_SHIFT)
#define SLOT(s)           ((s) >> SLOT_SHIFT)

enum { S_NONE, S_PENDING, S_PENDING_UNUSED, S_SAVING, S_COPYING, S_COPIED };

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

	_Atomic uint64_t read_faults, write_faults, page_ins, pager_hits,
		cow_copies, cow_waits, cow_wait_ns, leaf_waits;
};

static const uint8_t zero_page[PG];

#define LOAD(p)        atomic_load_explicit((p), memory_order_acquire)
#define CAS(p, e, v)   atomic_compare_exchange_strong_explicit((p), (e), (v), \
				memory_order_acq_rel, memory_order_acquire)
#define BUMP(p, n)     atomic_fetch_add_explicit((p), (n), memory_order_relaxed)

static void *page_addr(const struct pst_arena *a, uint32_t pgno)
{
	return a->base + (uint64_t)pgno * PG;
}

/* Waiting inside the fault handler: yield first, then sleep briefly, both
 * safe there (sched_yield/nanosleep hosted; the scheduler on bare metal). */
static void backoff(unsigned *spins)
{
	if ((*spins)++ < 100)
		plat_thread_yield();
	else
		plat_sleep_ns(20000);
}

/* ---- page-state table ---------------------------------------------------- */

static struct pst_pg *leaf_take_reserve(struct pst_arena *a)
{
	for (unsigned spins = 0;; backoff(&spins)) {
		for (uint32_t i = 0; i < a->nreserve; i++) {
			struct pst_pg *l = atomic_exchange(&a->reserve[i], NULL);
			if (l != NULL)
				return l;
		}
		if (spins == 0)
			BUMP(&a->leaf_waits, 1);
	}
}

/* The state entry of pgno, installing its leaf if needed: from the reserve
 * in the fault handler, from calloc elsewhere (NULL if that fails). */
static struct pst_pg *pg_entry(struct pst_arena *a, uint32_t pgno,
			       bool in_handler)
{
	_Atomic(struct pst_pg *) *slot = &a->top[pgno >> LEAF_SHIFT];
	for (unsigned spins = 0;; backoff(&spins)) {
		struct pst_pg *l = LOAD(slot);
		if (l != NULL && l != LEAF_BUSY)
			return &l[pgno & (LEAF_PAGES - 1)];
		if (l == LEAF_BUSY || !CAS(slot, &l, LEAF_BUSY))
			continue;
		l = in_handler ? leaf_take_reserve(a)
			       : calloc(LEAF_PAGES, sizeof *l);
		atomic_store_explicit(slot, l, memory_order_release);
		if (l == NULL)
			return NULL;
		return &l[pgno & (LEAF_PAGES - 1)];
	}
}

/* Entry of a page known to have one (it was dirtied), or NULL. */
static struct pst_pg *pg_lookup(struct pst_arena *a, uint32_t pgno)
{
	if (pgno >= a->npages)
		return NULL;
	struct pst_pg *l = LOAD(&a->top[pgno >> LEAF_SHIFT]);
	if (l == NULL || l == LEAF_BUSY)
		return NULL;
	return &l[pgno & (LEAF_PAGES - 1)];
}

int pst_arena_refill(struct pst_arena *a)
{
	for (uint32_t i = 0; i < a->nreserve; i++) {
		if (LOAD(&a->reserve[i]) != NULL)
			continue;
		struct pst_pg *l = calloc(LEAF_PAGES, sizeof *l), *none = NULL;
		if (l == NULL)
			return -ERR_NOMEM;
		if (!CAS(&a->reserve[i], &none, l))
			free(l);
	}
	return 0;
}

static void dirty_push(struct pst_arena *a, uint32_t pgno, struct pst_pg *e)
{
	uint32_t old = atomic_load_explicit(&a->dirty_head, memory_order_relaxed);
	do
		e->next = old;
	while (!atomic_compare_exchange_weak_explicit(&a->dirty_head, &old, pgno,
			memory_order_release, memory_order_relaxed));
	atomic_fetch_add_explicit(&a->dirty_count, 1, memory_order_relaxed);
}

/* ---- buffers: page-in bounce buffers and COW slots ------------------------ */

static int bounce_get(struct pst_arena *a)
{
	for (unsigned spins = 0;; backoff(&spins)) {
		uint32_t used = LOAD(&a->bounce_used);
		while (used != UINT32_MAX) {
			int i = __builtin_ctz(~used);
			if (CAS(&a->bounce_used, &used, used | (1u << i)))
				return i;
		}
	}
}

static void bounce_put(struct pst_arena *a, int i)
{
	atomic_fetch_and(&a->bounce_used, ~(1u << i));
}

static uint32_t cow_try_alloc(struct pst_arena *a)
{
	for (uint32_t w = 0; w < a->cow_words; w++) {
		uint64_t v = LOAD(&a->cow_used[w]);
		while (v != UINT64_MAX) {
			int b = __builtin_ctzll(~v);
			if (CAS(&a->cow_used[w], &v, v | (1ull << b))) {
				atomic_fetch_sub(&a->cow_free, 1);
				return w * 64u + (uint32_t)b;
			}
		}
	}
	return UINT32_MAX;
}

static void cow_release(struct pst_arena *a, uint32_t slot)
{
	atomic_fetch_and(&a->cow_used[slot / 64], ~(1ull << (slot % 64)));
	atomic_fetch_add(&a->cow_free, 1);
}

/* Copies a PENDING page (present, read-only) into a COW slot, leaving it
 * COPIED. s is the state seen; returns -ERR_AGAIN: look again (also after
 * success). When no slot is free the mutator waits here, the page still
 * PENDING, until the writer frees a slot or saves this very page: the
 * throttle that bounds copy memory. The slot is taken before the page is
 * marked COPYING, so the writer never waits on a copier that waits on it. */
static int cow_copy(struct pst_arena *a, uint32_t pgno, struct pst_pg *e,
		    uint32_t s)
{
	uint32_t slot;
	uint64_t t0 = 0;
	for (unsigned spins = 0; (slot = cow_try_alloc(a)) == UINT32_MAX;) {
		if (t0 == 0) {
			t0 = plat_monotonic_ns();
			BUMP(&a->cow_waits, 1);
		}
		backoff(&spins);
		s = LOAD(&e->st);
		if (SAVE(s) != S_PENDING)
			break;
	}
	if (t0 != 0)
		BUMP(&a->cow_wait_ns, plat_monotonic_ns() - t0);
	if (slot == UINT32_MAX)
		return -ERR_AGAIN;
	if (!CAS(&e->st, &s, SAVE_SET(s, S_COPYING))) {
		cow_release(a, slot);
		return -ERR_AGAIN;
	}
	/* COPYING: every other thread waits on this page, so s is current. */
	memcpy(a->cow + (uint64_t)slot * PG, page_addr(a, pgno), PG);
	BUMP(&a->cow_copies, 1);
	atomic_store_explicit(&e->st,
		(SAVE_SET(s, S_COPIED) & ~SLOT_MASK) | (slot << SLOT_SHIFT),
		memory_order_release);
	return -ERR_AGAIN;
}

/* ---- the fault path ------------------------------------------------------ */

/* Ends LOADING: sets every bit but save and slot from v. While a page is
 * LOADING the writer may still end its save (pst_arena_save_done), so those
 * bits are taken from the word as it is now, not as it was. */
static void set_res_bits(struct pst_pg *e, uint32_t v)
{
	const uint32_t keep = SAVE_MASK | SLOT_MASK;
	uint32_t cur = LOAD(&e->st);
	while (!CAS(&e->st, &cur, (cur & keep) | (v & ~keep)))
		;
}

/* First touch of an ABSENT page: fill it from the pager (or zeros) and make
 * it readable, or writable and dirty. -ERR_AGAIN if s was stale. */
static int page_in(struct pst_arena *a, uint32_t pgno, struct pst_pg *e,
		   uint32_t s, bool is_write)
{
	if (!CAS(&e->st, &s, (s & ~RES_MASK) | RES_LOADING))
		return -ERR_AGAIN;
	bool dirty = is_write || (s & ST_DIRTY);
	const void *src = zero_page;
	int bi = -1, rc = 0;
	if (!(s & ST_UNUSED) && a->pager.page_in != NULL) {
		bool present = false;
		bi = bounce_get(a);
		uint8_t *buf = a->bounce + (uint64_t)bi * PG;
		rc = a->pager.page_in(a->pager.ctx, pgno, buf, &present);
		if (rc == 0 && present) {
			src = buf;
			BUMP(&a->pager_hits, 1);
		}
	}
	if (rc == 0)
		rc = plat_page_fill(page_addr(a, pgno), src,
				    dirty ? PLAT_PROT_RW : PLAT_PROT_READ);
	if (bi >= 0)
		bounce_put(a, bi);
	if (rc != 0) {
		set_res_bits(e, s);
		return rc;
	}
	if (dirty && !(s & ST_DIRTY)) {
		dirty_push(a, pgno, e);
		BUMP(&a->write_faults, 1);
	} else if (!is_write) {
		BUMP(&a->read_faults, 1);
	}
	BUMP(&a->page_ins, 1);
	set_res_bits(e, (s & ~(RES_MASK | ST_UNUSED)) | RES_PRESENT |
		     (dirty ? ST_DIRTY : 0));
	return 0;
}

static int fault_page(struct pst_arena *a, uint32_t pgno, struct pst_pg *e,
		      bool is_write)
{
	void *addr = page_addr(a, pgno);
	for (unsigned spins = 0;;) {
		uint32_t s = LOAD(&e->st);
		int rc;
		if ((s & RES_MASK) == RES_LOADING) {
			backoff(&spins);
			continue;
		}
		if ((s & RES_MASK) == RES_ABSENT) {
			rc = page_in(a, pgno, e, s, is_write);
			if (rc != -ERR_AGAIN)
				return rc;
			continue;
		}
		/* PRESENT. A read fault, or a write to a page another thread
		 * is marking dirty, raced with a protection change: (re)apply
		 * the protection the state calls for, idempotently. */
		if (!is_write || (s & ST_DIRTY))
			return plat_mem_protect(addr, PG, (s & ST_DIRTY) ?
						PLAT_PROT_RW : PLAT_PROT_READ);
		switch (SAVE(s)) {
		case S_SAVING:
		case S_COPYING:
			backoff(&spins);
			continue;
		case S_PENDING:
			cow_copy(a, pgno, e, s);
			continue;
		}
		if (!CAS(&e->st, &s, s | ST_DIRTY))
			continue;
		dirty_push(a, pgno, e);
		BUMP(&a->write_faults, 1);
		return plat_mem_protect(addr, PG, PLAT_PROT_RW);
	}
}

/* The plat_fault_fn. A false return makes the fault fatal: an address
 * outside the arena, a pager error, or a failed protect (which would
 * otherwise lose track of a write). */
static bool arena_fault(void *ctx, void *addr, bool is_write)
{
	struct pst_arena *a = ctx;
	uintptr_t off = (uintptr_t)addr - (uintptr_t)a->base;
	if ((uintptr_t)addr < (uintptr_t)a->base || off / PG >= a->npages)
		return false;
	uint32_t pgno = (uint32_t)(off / PG);
	return fault_page(a, pgno, pg_entry(a, pgno, true), is_write) == 0;
}

/* ---- open / close / stats ------------------------------------------------ */

static void arena_free(struct pst_arena *a)
{
	if (a->top != NULL)
		for (uint64_t i = 0; i < a->ntop; i++)
			free(LOAD(&a->top[i]));
	if (a->reserve != NULL)
		for (uint32_t i = 0; i < a->nreserve; i++)
			free(LOAD(&a->reserve[i]));
	free(a->top);
	free(a->reserve);
	free(a->bounce);
	free(a->cow);
	free(a->cow_used);
	free(a);
}

int pst_arena_open(const struct pst_arena_config *cfg, struct pst_arena **out)
{
	if (cfg == NULL || out == NULL || cfg->size == 0 ||
	    cfg->size % PG != 0)
		return -ERR_INVAL;
	if (cfg->size > PLAT_ARENA_MAX || cfg->cow_pages > (1u << 24))
		return -ERR_RANGE;
	struct pst_arena *a = calloc(1, sizeof *a);
	if (a == NULL)
		return -ERR_NOMEM;
	a->npages = cfg->size / PG;
	a->pager = cfg->pager;
	a->ntop = (a->npages + LEAF_PAGES - 1) / LEAF_PAGES;
	a->nreserve = cfg->leaf_reserve ? cfg->leaf_reserve : 16;
	a->cow_n = cfg->cow_pages ? cfg->cow_pages : 256;
	a->cow_words = (a->cow_n + 63) / 64;
	atomic_init(&a->dirty_head, NIL);
	atomic_init(&a->cow_free, a->cow_n);
	a->top = calloc(a->ntop, sizeof *a->top);
	a->reserve = calloc(a->nreserve, sizeof *a->reserve);
	a->bounce = malloc((size_t)BOUNCE_COUNT * PG);
	a->cow = malloc((size_t)a->cow_n * PG);
	a->cow_used = calloc(a->cow_words, sizeof *a->cow_used);
	int rc = -ERR_NOMEM;
	if (a->top == NULL || a->reserve == NULL || a->bounce == NULL ||
	    a->cow == NULL || a->cow_used == NULL)
		goto err;
	if (a->cow_n % 64 != 0)      /* slots past cow_n are never free */
		atomic_init(&a->cow_used[a->cow_words - 1],
			    ~0ull << (a->cow_n % 64));
	if ((rc = pst_arena_refill(a)) != 0)
		goto err;
	void *base = NULL;
	if ((rc = plat_arena_reserve(cfg->size, &base)) != 0)
		goto err;
	a->base = base;
	if (base != (void *)(uintptr_t)PLAT_ARENA_BASE) {
		rc = -ERR_ADDRINUSE;
		goto err_reserved;
	}
	if ((rc = plat_set_fault_handler(arena_fault, a)) != 0)
		goto err_reserved;
	*out = a;
	return 0;

err_reserved:
	plat_arena_release();
err:
	arena_free(a);
	return rc;
}

int pst_arena_close(struct pst_arena *a)
{
	if (a == NULL)
		return -ERR_INVAL;
	plat_set_fault_handler(NULL, NULL);
	int rc = plat_arena_release();
	arena_free(a);
	return rc;
}

void *pst_arena_base(const struct pst_arena *a) { return a->base; }
uint64_t pst_arena_pages(const struct pst_arena *a) { return a->npages; }

void pst_arena_stats(struct pst_arena *a, struct pst_arena_stats *o)
{
	o->read_faults = LOAD(&a->read_faults);
	o->write_faults = LOAD(&a->write_faults);
	o->page_ins = LOAD(&a->page_ins);
	o->pager_hits = LOAD(&a->pager_hits);
	o->cow_copies = LOAD(&a->cow_copies);
	o->cow_waits = LOAD(&a->cow_waits);
	o->cow_wait_ns = LOAD(&a->cow_wait_ns);
	o->leaf_waits = LOAD(&a->leaf_waits);
	o->cow_free = LOAD(&a->cow_free);
	o->cow_total = a->cow_n;
}

/* ---- declared-unused pages ---------------------------------------------- */

int pst_arena_declare_unused(struct pst_arena *a, uint64_t pgno,
			     uint64_t count)
{
	if (a == NULL || pgno > a->npages || count > a->npages - pgno)
		return -ERR_RANGE;
	if (count == 0)
		return 0;
	/* 1: entries exist, and pages the writer has yet to save are copied
	 * while still readable (their instant contents must survive). */
	for (uint64_t p = pgno; p < pgno + count; p++) {
		struct pst_pg *e = pg_entry(a, (uint32_t)p, false);
		if (e == NULL)
			return -ERR_NOMEM;
		for (unsigned spins = 0;;) {
			uint32_t s = LOAD(&e->st);
			uint32_t sv = SAVE(s);
			if ((s & RES_MASK) == RES_LOADING || sv == S_SAVING ||
			    sv == S_COPYING)
				backoff(&spins);
			else if (sv == S_PENDING)
				cow_copy(a, (uint32_t)p, e, s);
			else
				break;
		}
	}
	/* 2: drop the memory; on failure no state has changed. */
	void *addr = page_addr(a, (uint32_t)pgno);
	int rc = plat_mem_discard(addr, count * PG);
	if (rc == 0)
		rc = plat_mem_protect(addr, count * PG, PLAT_PROT_NONE);
	if (rc != 0)
		return rc;
	/* 3: absent, unused, and on this epoch's list once. */
	for (uint64_t p = pgno; p < pgno + count; p++) {
		struct pst_pg *e = pg_lookup(a, (uint32_t)p);
		uint32_t s = LOAD(&e->st);
		while (!CAS(&e->st, &s, (s & ~RES_MASK) | RES_ABSENT |
			    ST_UNUSED | ST_DIRTY))
			;
		if (!(s & ST_DIRTY))
			dirty_push(a, (uint32_t)p, e);
	}
	return 0;
}

/* ---- the snapshot instant and the writer's side -------------------------- */

/* LSD radix sort, 4 passes of 8 bits: O(n), no recursion, no libc qsort. */
static void sort_pages(uint32_t *v, uint32_t *tmp, size_t n)
{
	for (unsigned shift = 0; shift < 32; shift += 8) {
		size_t cnt[257] = { 0 };
		for (size_t i = 0; i < n; i++)
			cnt[((v[i] >> shift) & 0xff) + 1]++;
		for (int b = 0; b < 256; b++)
			cnt[b + 1] += cnt[b];
		for (size_t i = 0; i < n; i++)
			tmp[cnt[(v[i] >> shift) & 0xff]++] = v[i];
		memcpy(v, tmp, n * sizeof *v);
	}
}

static bool is_present(struct pst_arena *a, uint32_t pgno)
{
	struct pst_pg *e = pg_lookup(a, pgno);
	return e != NULL && (LOAD(&e->st) & RES_MASK) == RES_PRESENT;
}

static bool gap_present(struct pst_arena *a, uint32_t from, uint32_t to)
{
	for (uint32_t p = from; p < to; p++)
		if (!is_present(a, p))
			return false;
	return true;
}

int pst_arena_epoch_close(struct pst_arena *a, struct pst_arena_batch *out)
{
	size_t n = atomic_load(&a->dirty_count);
	uint32_t *pages = malloc((n ? n : 1) * sizeof *pages);
	uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
	if (pages == NULL || tmp == NULL) {
		free(pages);
		free(tmp);
		return -ERR_NOMEM;
	}
	uint32_t p = atomic_exchange(&a->dirty_head, NIL);
	atomic_store(&a->dirty_count, 0);
	size_t i = 0;
	while (p != NIL) {
		struct pst_pg *e = pg_lookup(a, p);
		uint32_t s = LOAD(&e->st);
		if (i == n || SAVE(s) != S_NONE)
			plat_panic("pst_arena_epoch_close: page %u listed twice "
				   "or still being saved", p);
		atomic_store(&e->st, SAVE_SET(s & ~ST_DIRTY, (s & ST_UNUSED) ?
				S_PENDING_UNUSED : S_PENDING));
		pages[i++] = p;
		p = e->next;
	}
	if (i != n)
		plat_panic("pst_arena_epoch_close: %zu listed, %zu counted", i, n);
	sort_pages(pages, tmp, n);
	free(tmp);
	/* Re-protect present pages, one run per call (each call may split a
	 * VMA; see BAREMETAL-NOTES, max_map_count). A run bridges a gap of up
	 * to MERGE_GAP pages that are all present: those are clean (not on
	 * the list), so already read-only. Cost stays O(dirty pages). */
	for (size_t r = 0; r < n;) {
		if (!is_present(a, pages[r])) {
			r++;
			continue;
		}
		size_t end = r + 1;
		while (end < n && pages[end] - pages[end - 1] <= MERGE_GAP + 1 &&
		       is_present(a, pages[end]) &&
		       gap_present(a, pages[end - 1] + 1, pages[end]))
			end++;
		uint64_t len = (uint64_t)(pages[end - 1] - pages[r] + 1) * PG;
		int rc = plat_mem_protect(page_addr(a, pages[r]), len,
					  PLAT_PROT_READ);
		if (rc != 0)
			plat_panic("pst_arena_epoch_close: re-protecting %zu "
				   "pages at %u: %s", end - r, pages[r],
				   err_str(rc));
		r = end;
	}
	out->pages = pages;
	out->count = n;
	return 0;
}

void pst_arena_batch_free(struct pst_arena_batch *b)
{
	free(b->pages);
	b->pages = NULL;
	b->count = 0;
}

int pst_arena_save_page(struct pst_arena *a, uint32_t pgno, void *buf,
			const void **contents)
{
	struct pst_pg *e = pg_lookup(a, pgno);
	if (e == NULL)
		return -ERR_INVAL;
	for (unsigned spins = 0;;) {
		uint32_t s = LOAD(&e->st);
		switch (SAVE(s)) {
		case S_PENDING_UNUSED:
			return PST_SAVE_UNUSED;
		case S_COPIED:
			*contents = a->cow + (uint64_t)SLOT(s) * PG;
			return PST_SAVE_PAGE;
		case S_COPYING:
			backoff(&spins);
			continue;
		case S_PENDING:
			if (!CAS(&e->st, &s, SAVE_SET(s, S_SAVING)))
				continue;
			/* SAVING: the page is read-only and writers wait on
			 * this state, so it cannot change under the copy. */
			memcpy(buf, page_addr(a, pgno), PG);
			atomic_store_explicit(&e->st, SAVE_SET(s, S_NONE),
					      memory_order_release);
			*contents = buf;
			return PST_SAVE_PAGE;
		default:
			return -ERR_INVAL;
		}
	}
}

void pst_arena_save_done(struct pst_arena *a, uint32_t pgno)
{
	struct pst_pg *e = pg_lookup(a, pgno);
	if (e == NULL)
		return;
	uint32_t s = LOAD(&e->st);
	for (;;) {
		uint32_t sv = SAVE(s);
		if (sv != S_COPIED && sv != S_PENDING_UNUSED)
			return;
		if (CAS(&e->st, &s, SAVE_SET(s, S_NONE) & ~SLOT_MASK)) {
			if (sv == S_COPIED)
				cow_release(a, SLOT(s));
			return;
		}
	}
}
