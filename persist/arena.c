/* arena.c — the persistent arena: reservation, lazy page-in, the fault handler
 * (dirty tracking and copy-on-write of pages still being saved), the per-page
 * state table, the COW slot pool, declared-unused pages and the volatile
 * range; the snapshot instant is in arena_save.c. State word layout and
 * thread rules: arena.h.
 * Everything the fault handler touches is preallocated; it synchronises only
 * through atomics. */
#include <stdlib.h>
#include <string.h>

#include "arena_int.h"

static const uint8_t zero_page[PG];

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

/* Copies a PENDING page (present, read-only) into a COW slot, leaving it
 * COPIED. s is the state seen; returns -ERR_AGAIN: look again (also after
 * success). When no slot is free the mutator waits here, the page still
 * PENDING, until the writer frees a slot or saves this very page: the
 * throttle that bounds copy memory. The slot is taken before the page is
 * marked COPYING, so the writer never waits on a copier that waits on it. */
static int cow_copy_wait(struct pst_arena *a, uint32_t pgno, struct pst_pg *e,
			 uint32_t s, bool wait)
{
	uint32_t slot;
	uint64_t t0 = 0;
	for (unsigned spins = 0; (slot = cow_try_alloc(a)) == UINT32_MAX;) {
		if (!wait)
			return -ERR_AGAIN;
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

static int cow_copy(struct pst_arena *a, uint32_t pgno, struct pst_pg *e,
		    uint32_t s)
{
	return cow_copy_wait(a, pgno, e, s, true);
}

/* ---- the fault path ------------------------------------------------------ */

/* pgno lies in the volatile range (pst_arena_set_volatile). */
static bool in_volatile(struct pst_arena *a, uint64_t pgno)
{
	uint64_t r = LOAD(&a->volatile_range);
	return pgno >= (r >> 32) && pgno < (uint32_t)r;
}

/* A write to the page after one already dirty in this epoch: the
 * program is likely filling memory in address order (an allocator
 * carving a free run), so the pages ahead are taken too. */
static bool follows_a_dirty_page(struct pst_arena *a, uint32_t pgno)
{
	struct pst_pg *pe = pgno ? pg_lookup(a, pgno - 1) : NULL;
	return pe != NULL && (LOAD(&pe->st) & ST_DIRTY);
}

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

/* An ABSENT page's memory reads as zeros (untouched since the reserve, or
 * discarded), so a page that is to read as zeros becomes present by
 * protection alone, without a copy. Fresh-page fault-ahead: a write that
 * brings in zeros right after a page dirty in this epoch (memory filled in
 * address order, fresh memory an allocator carves first) also takes the
 * window's next pages that read as zeros too (declared unused, or never
 * stored), all present, dirty and writable after one protection change: a
 * run of fresh pages costs one trap instead of one each. A page taken but
 * not written is saved as zeros, equal to its committed contents, and the
 * sink drops it. */
static void fresh_ahead(struct pst_arena *a, uint32_t pgno)
{
	uint32_t first = pgno + 1, max = a->around, got = 0, zero_run = 0;
	uint32_t seen[64];
	if (max > a->npages - first)
		max = (uint32_t)(a->npages - first);
	/* The store is asked (under its lock) only about the absent run ahead
	 * as it looks now; the claim below checks each page again. */
	uint32_t absent = 0;
	for (struct pst_pg *qe; absent < max &&
	     (qe = pg_lookup(a, first + absent)) != NULL &&
	     (LOAD(&qe->st) & RES_MASK) == RES_ABSENT; absent++)
		;
	max = absent;
	if (a->pager.page_in == NULL)
		zero_run = max;
	else if (max == 0 || a->pager.unstored_run == NULL ||
		 a->pager.unstored_run(a->pager.ctx, first, max, &zero_run) != 0)
		zero_run = 0;            /* then only pages declared unused */
	for (; got < max; got++) {
		struct pst_pg *qe = pg_lookup(a, first + got);
		uint32_t s = qe == NULL ? 0 : LOAD(&qe->st);
		if (qe == NULL || in_volatile(a, first + got) ||
		    (s & RES_MASK) != RES_ABSENT ||
		    (got >= zero_run && !(s & ST_UNUSED)) ||
		    !CAS(&qe->st, &s, (s & ~RES_MASK) | RES_LOADING))
			break;
		seen[got] = s;
	}
	if (got == 0)
		return;
	/* A failed change may have applied in part, and a page it opened
	 * may have been written already (by another mutator): so the pages
	 * are taken either way, present, dirty and listed. A page left
	 * without access is still a valid dirty page: its next touch traps
	 * and unprotects it (fault_page), so no write goes unseen. Made
	 * absent again, one that was opened would hold data while absent,
	 * unlisted, and come back by protection alone. */
	(void)plat_mem_protect(page_addr(a, first), (uint64_t)got * PG,
			       PLAT_PROT_RW);
	for (uint32_t k = 0; k < got; k++) {
		struct pst_pg *qe = pg_lookup(a, first + k);
		uint32_t s = seen[k];
		if (!(s & ST_DIRTY))
			dirty_push(a, first + k, qe);
		BUMP(&a->around_pages, 1);
		BUMP(&a->page_ins, 1);
		/* COLD on a DIRTY page: fresh memory filled in order, so
		 * the cut does not make it HOT (arena.h). */
		set_res_bits(qe, (s & ~(RES_MASK | ST_UNUSED)) |
			     RES_PRESENT | ST_DIRTY | ST_COLD);
	}
}

/* pgno, DIRTY, is fresh memory filled in order: COLD, so the cut does not
 * make it HOT (arena.h). */
static void mark_fresh_fill(struct pst_arena *a, uint32_t pgno)
{
	struct pst_pg *e = pg_lookup(a, pgno);
	uint32_t s = e == NULL ? 0 : LOAD(&e->st);
	while ((s & ST_DIRTY) && !(s & ST_COLD) &&
	       !CAS(&e->st, &s, s | ST_COLD))
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
	enum plat_prot prot = dirty ? PLAT_PROT_RW : PLAT_PROT_READ;
	if (rc == 0 && src == zero_page)
		rc = plat_mem_protect(page_addr(a, pgno), PG, prot);
	else if (rc == 0)
		rc = plat_page_fill(page_addr(a, pgno), src, prot);
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
	set_res_bits(e, (s & ~(RES_MASK | ST_UNUSED | (is_write ? ST_COLD : 0))) |
		     RES_PRESENT | (dirty ? ST_DIRTY : 0));
	if (is_write && src == zero_page && a->around > 1 &&
	    follows_a_dirty_page(a, pgno)) {
		mark_fresh_fill(a, pgno);
		fresh_ahead(a, pgno);
	}
	return 0;
}

/* Makes a DIRTY page writable. A prepare on another thread may have marked
 * it S_PREPROT (and protected it, before or after this unprotect) since the
 * state was read: then the instant must protect it after all, so it goes
 * back to S_NONE. Left S_PREPROT it would stay writable through the
 * instant, its later writes untracked and leaking into the saved copy. */
static int unprotect_dirty(struct pst_pg *e, void *addr)
{
	int rc = plat_mem_protect(addr, PG, PLAT_PROT_RW);
	uint32_t s = LOAD(&e->st);
	while (SAVE(s) == S_PREPROT && !CAS(&e->st, &s, SAVE_SET(s, S_NONE)))
		;
	return rc;
}

/* Fault-around for a write to pgno, now DIRTY (arena.h): takes the
 * window's neighbours that are present (so never a volatile page: absent
 * or SCRATCH), need no wait and are not COLD (saved unchanged since they
 * were last taken), then unprotects each run
 * of taken pages with one call. A HOT page's window is its aligned block of
 * HOT pages; a sequential write's (`ahead`) is the pages after it, and
 * when pgno itself was COLD (`warm`: a write proving its cooling wrong)
 * the COLD pages after it are taken too, as a program that fills memory
 * in order writes them next. */
static int unprotect_around(struct pst_arena *a, uint32_t pgno, bool ahead,
			    bool warm)
{
	uint32_t lo = ahead ? pgno : pgno & ~(a->around - 1), hi = lo + a->around;
	if (hi > a->npages)
		hi = (uint32_t)a->npages;
	uint32_t want = RES_PRESENT | (ahead ? 0 : ST_HOT);
	uint32_t look = RES_MASK | ST_DIRTY | ST_UNUSED | (ahead ? 0 : ST_HOT) |
			(warm ? 0 : ST_COLD);
	uint64_t taken = 1ull << (pgno - lo);
	for (uint32_t q = lo; q < hi; q++) {
		struct pst_pg *qe = q == pgno ? NULL : pg_lookup(a, q);
		if (qe == NULL)
			continue;
		uint32_t s = LOAD(&qe->st);
		if ((s & look) != want)
			continue;
		if (SAVE(s) == S_PENDING) {
			cow_copy_wait(a, q, qe, s, false);
			s = LOAD(&qe->st);
		}
		/* COPIED: its instant is safe in a slot; NONE: already saved.
		 * Taken, a COLD page is warm again (the cut makes it HOT); if
		 * it is not written after all, its save cools it anew. */
		if ((s & (RES_MASK | ST_DIRTY | ST_UNUSED)) != RES_PRESENT ||
		    (SAVE(s) != S_COPIED && SAVE(s) != S_NONE) ||
		    !CAS(&qe->st, &s, (s | ST_DIRTY) & ~ST_COLD))
			continue;
		dirty_push(a, q, qe);
		BUMP(&a->around_pages, 1);
		taken |= 1ull << (q - lo);
	}
	int rc = 0;
	for (uint32_t q = lo; q < hi;) {
		if (!(taken >> (q - lo) & 1)) {
			q++;
			continue;
		}
		uint32_t end = q + 1;
		while (end < hi && (taken >> (end - lo) & 1))
			end++;
		int r = plat_mem_protect(page_addr(a, q), (uint64_t)(end - q) * PG,
					 PLAT_PROT_RW);
		if (r != 0)
			rc = r;
		/* As unprotect_dirty: a racing prepare leaves them to the
		 * instant. A neighbour declared unused meanwhile (the program
		 * never touched it, so it may do that) is absent now: its
		 * protection goes back to none, or writes to it would be
		 * missed. A racing page-in of it only costs a fault. */
		for (uint32_t k = q; k < end; k++) {
			struct pst_pg *ke = pg_lookup(a, k);
			uint32_t s = LOAD(&ke->st);
			while (SAVE(s) == S_PREPROT &&
			       !CAS(&ke->st, &s, SAVE_SET(s, S_NONE)))
				;
			if (k != pgno && (s & RES_MASK) != RES_PRESENT) {
				int r2 = plat_mem_protect(page_addr(a, k), PG, PLAT_PROT_NONE);
				if (r2 != 0)
					rc = r2;
			}
		}
		q = end;
	}
	return rc;
}

/* A write to a page pst_arena_epoch_prepare re-protected, after which
 * the program may well go on writing the pages after it (a sequential
 * fill whose pages were taken ahead, listed and then prepared before
 * being written): those prepared pages are opened too, in one protection
 * change, and go back to S_NONE for the instant to protect. Nothing is
 * listed: they are dirty already. */
static int unprotect_prepared_ahead(struct pst_arena *a, uint32_t pgno)
{
	uint32_t first = pgno + 1, n = 0, max = a->around - 1;
	if (first >= a->npages)
		return 0;
	if (max > a->npages - first)
		max = (uint32_t)(a->npages - first);
	for (; n < max; n++) {
		struct pst_pg *qe = pg_lookup(a, first + n);
		uint32_t s = qe == NULL ? 0 : LOAD(&qe->st);
		if (qe == NULL || (s & (RES_MASK | ST_DIRTY | ST_UNUSED)) !=
		    (RES_PRESENT | ST_DIRTY) || SAVE(s) != S_PREPROT ||
		    !CAS(&qe->st, &s, SAVE_SET(s, S_NONE)))
			break;
	}
	if (n == 0)
		return 0;
	int rc = plat_mem_protect(page_addr(a, first), (uint64_t)n * PG,
				  PLAT_PROT_RW);
	/* As unprotect_dirty: a prepare racing this (marking one PREPROT
	 * again and protecting it, before or after the change above) leaves
	 * it to the instant, or a page opened here would stay writable
	 * through the instant. As unprotect_around: a page another mutator
	 * declared unused meanwhile (this thread never wrote it) is absent
	 * now, and the change above may have come after the declaration's:
	 * its protection goes back to none, or the program's next store
	 * there would go untracked and be saved as unused. */
	for (uint32_t k = 0; k < n; k++) {
		struct pst_pg *qe = pg_lookup(a, first + k);
		uint32_t s = LOAD(&qe->st);
		while (SAVE(s) == S_PREPROT &&
		       !CAS(&qe->st, &s, SAVE_SET(s, S_NONE)))
			;
		if ((s & RES_MASK) != RES_PRESENT) {
			int r2 = plat_mem_protect(page_addr(a, first + k), PG,
						  PLAT_PROT_NONE);
			if (r2 != 0)
				rc = r2;
		}
	}
	return rc;
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
		if (is_write && (s & ST_DIRTY) && SAVE(s) == S_PREPROT) {
			/* Written after its prepare: the instant protects it. */
			if (!CAS(&e->st, &s, SAVE_SET(s, S_NONE)))
				continue;
			BUMP(&a->prep_faults, 1);
			rc = unprotect_dirty(e, addr);
			if (rc == 0 && a->around > 1)
				rc = unprotect_prepared_ahead(a, pgno);
			return rc;
		}
		if ((s & ST_DIRTY) && SAVE(s) != S_PREPROT)
			return unprotect_dirty(e, addr);
		if (!is_write || (s & ST_DIRTY))
			return plat_mem_protect(addr, PG, PLAT_PROT_READ);
		switch (SAVE(s)) {
		case S_SAVING:
		case S_COPYING:
			backoff(&spins);
			continue;
		case S_PENDING:
			cow_copy(a, pgno, e, s);
			continue;
		}
		if (!CAS(&e->st, &s, (s | ST_DIRTY) & ~ST_COLD))
			continue;
		dirty_push(a, pgno, e);
		BUMP(&a->write_faults, 1);
		if (a->test_dirty_hook != NULL)
			a->test_dirty_hook(a->test_dirty_ctx, pgno);
		/* A HOT page that is also COLD (its last guess failed)
		 * written right after a dirty page is memory being refilled
		 * in order: the sequential window, COLD pages included,
		 * not the HOT one (which skips COLD pages, so each page
		 * of the run would trap on its own). */
		bool seq = a->around > 1 && follows_a_dirty_page(a, pgno);
		if (a->around > 1 && (s & ST_HOT) && !(seq && (s & ST_COLD)))
			return unprotect_around(a, pgno, false, false);
		if (seq)
			return unprotect_around(a, pgno, true,
						(s & ST_COLD) != 0);
		return unprotect_dirty(e, addr);
	}
}

/* A fault on a volatile page: the first touch fills it with zeros,
 * read-write, and leaves it SCRATCH (UNUSED and any DIRTY or save bits
 * kept, so its declaration is still reported); no pager, no listing.
 * LOADING serialises first touches, as a second fill would wipe what the
 * first toucher wrote since; a fault on a SCRATCH page raced that fill,
 * so the protection is applied again, idempotently. */
static int scratch_fault(struct pst_arena *a, uint32_t pgno, struct pst_pg *e)
{
	void *addr = page_addr(a, pgno);
	for (unsigned spins = 0;;) {
		uint32_t s = LOAD(&e->st);
		switch (s & RES_MASK) {
		case RES_SCRATCH:
			BUMP(&a->volatile_faults, 1);
			return plat_mem_protect(addr, PG, PLAT_PROT_RW);
		case RES_LOADING:
			backoff(&spins);
			continue;
		case RES_PRESENT:
			plat_panic("pst_arena_set_volatile: page %u "
				   "touched during the call", pgno);
		}
		if (!CAS(&e->st, &s, (s & ~RES_MASK) | RES_LOADING))
			continue;
		int rc = plat_page_fill(addr, zero_page, PLAT_PROT_RW);
		set_res_bits(e, (s & ~RES_MASK) |
			     (rc == 0 ? RES_SCRATCH : RES_ABSENT));
		if (rc == 0)
			BUMP(&a->volatile_faults, 1);
		return rc;
	}
}

void pst_arena_set_dirty_hook(struct pst_arena *a,
			      void (*fn)(void *ctx, uint32_t pgno), void *ctx)
{
	a->test_dirty_ctx = ctx;
	a->test_dirty_hook = fn;
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
	struct pst_pg *e = pg_entry(a, pgno, true);
	if (in_volatile(a, pgno))
		return scratch_fault(a, pgno, e) == 0;
	return fault_page(a, pgno, e, is_write) == 0;
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
	free(a->hot_prev);
	free(a);
}

int pst_arena_open(const struct pst_arena_config *cfg, struct pst_arena **out)
{
	if (cfg == NULL || out == NULL || cfg->size == 0 ||
	    cfg->size % PG != 0)
		return -ERR_INVAL;
	if (cfg->size > PLAT_ARENA_MAX || cfg->cow_pages > (1u << 23) ||
	    cfg->write_around > 64 ||
	    (cfg->write_around & (cfg->write_around - 1)) != 0)
		return -ERR_RANGE;
	struct pst_arena *a = calloc(1, sizeof *a);
	if (a == NULL)
		return -ERR_NOMEM;
	a->npages = cfg->size / PG;
	a->pager = cfg->pager;
	a->ntop = (a->npages + LEAF_PAGES - 1) / LEAF_PAGES;
	a->nreserve = cfg->leaf_reserve ? cfg->leaf_reserve : 16;
	a->cow_n = cfg->cow_pages ? cfg->cow_pages : 1024;
	a->around = cfg->write_around ? cfg->write_around : 64;
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
	o->around_pages = LOAD(&a->around_pages);
	o->page_ins = LOAD(&a->page_ins);
	o->pager_hits = LOAD(&a->pager_hits);
	o->cow_copies = LOAD(&a->cow_copies);
	o->cow_waits = LOAD(&a->cow_waits);
	o->cow_wait_ns = LOAD(&a->cow_wait_ns);
	o->leaf_waits = LOAD(&a->leaf_waits);
	o->volatile_faults = LOAD(&a->volatile_faults);
	o->prep_faults = LOAD(&a->prep_faults);
	o->cow_free = LOAD(&a->cow_free);
	o->cow_total = a->cow_n;
}

/* ---- pages of an epoch that was not committed --------------------------- */

/* arena.h. Only the writer calls it, after the page's save ended. */
void pst_arena_save_lost(struct pst_arena *a, uint32_t pgno)
{
	struct pst_pg *e = pg_lookup(a, pgno);
	if (e == NULL)
		return;
	for (unsigned spins = 0;;) {
		uint32_t s = LOAD(&e->st);
		if (s & ST_DIRTY)
			return;          /* written again: listed already */
		if ((s & RES_MASK) == RES_LOADING) {
			backoff(&spins); /* a page-in or declare_unused */
			continue;
		}
		/* Present: listed, still protected, so its next write takes
		 * the DIRTY path. Absent or SCRATCH: it was saved as unused,
		 * and is so again. */
		if ((s & RES_MASK) == RES_ABSENT && !(s & ST_UNUSED))
			return;
		if (CAS(&e->st, &s, (s | ST_DIRTY) & ~ST_COLD)) {
			dirty_push(a, pgno, e);
			return;
		}
	}
}

/* ---- declared-unused pages ---------------------------------------------- */

/* One run of pages not yet unused (pst_arena_declare_unused). */
static int declare_run(struct pst_arena *a, uint64_t pgno, uint64_t count)
{
	/* 0: entries exist (before any page is marked, so a failure leaves
	 * nothing half done). */
	for (uint64_t p = pgno; p < pgno + count; p++)
		if (pg_entry(a, (uint32_t)p, false) == NULL)
			return -ERR_NOMEM;
	/* 1: pages the writer has yet to save are copied while still
	 * readable (their instant contents must survive), and every page is
	 * marked LOADING: busy, so a neighbour's fault-around does not take
	 * a present one (and re-protects one it took meanwhile), nor a
	 * neighbour's fresh fault-ahead an absent one (it would open it
	 * after step 2 closed it, and step 3 would leave it absent but
	 * writable, or list it twice). An absent page is marked LOADING |
	 * UNUSED (a present page is never UNUSED), so a failure can tell
	 * which state each goes back to. */
	for (uint64_t p = pgno; p < pgno + count; p++) {
		struct pst_pg *e = pg_lookup(a, (uint32_t)p);
		for (unsigned spins = 0;;) {
			uint32_t s = LOAD(&e->st);
			uint32_t sv = SAVE(s);
			uint32_t res = s & RES_MASK;
			if (res == RES_LOADING || sv == S_SAVING ||
			    sv == S_COPYING)
				backoff(&spins);
			else if (sv == S_PENDING)
				cow_copy(a, (uint32_t)p, e, s);
			else if (res == RES_PRESENT ?
				 CAS(&e->st, &s, (s & ~RES_MASK) | RES_LOADING) :
				 res != RES_ABSENT || (s & ST_UNUSED) ||
				 CAS(&e->st, &s, (s & ~RES_MASK) | RES_LOADING |
				     ST_UNUSED))
				break;
		}
	}
	/* 2: drop the memory; on failure the pages are as they were. */
	void *addr = page_addr(a, (uint32_t)pgno);
	int rc = plat_mem_discard(addr, count * PG);
	if (rc == 0)
		rc = plat_mem_protect(addr, count * PG, PLAT_PROT_NONE);
	if (rc != 0) {
		for (uint64_t p = pgno; p < pgno + count; p++) {
			struct pst_pg *e = pg_lookup(a, (uint32_t)p);
			uint32_t s = LOAD(&e->st);
			while ((s & RES_MASK) == RES_LOADING &&
			       !CAS(&e->st, &s, (s & ST_UNUSED) ?
				    (s & ~(RES_MASK | ST_UNUSED)) | RES_ABSENT :
				    (s & ~RES_MASK) | RES_PRESENT))
				;
		}
		return rc;
	}
	/* 3: absent, unused, and on this epoch's list once. */
	for (uint64_t p = pgno; p < pgno + count; p++) {
		struct pst_pg *e = pg_lookup(a, (uint32_t)p);
		uint32_t s = LOAD(&e->st);
		uint32_t ns;
		do
			ns = (SAVE(s) == S_PREPROT ? SAVE_SET(s, S_NONE) : s);
		while (!CAS(&e->st, &s, (ns & ~RES_MASK) | RES_ABSENT |
			    ST_UNUSED | ST_DIRTY));
		if (!(s & ST_DIRTY))
			dirty_push(a, (uint32_t)p, e);
	}
	return 0;
}

/* A page absent and unused since its declaration is skipped: it is on
 * this epoch's list already, or an earlier epoch saved it as unused (and
 * a lost epoch's re-listing, pst_arena_save_lost, covers it either way).
 * So a heap may declare a free block again at every collection and pay
 * only for the pages touched since. A volatile page is skipped too: it was
 * declared when the range was set, and dropping its scratch memory would
 * only cost a trap and a listing. */
static bool declare_skips(struct pst_arena *a, uint64_t pgno)
{
	struct pst_pg *e = pg_lookup(a, (uint32_t)pgno);
	uint32_t s = e == NULL ? 0 : LOAD(&e->st);
	return ((s & RES_MASK) == RES_ABSENT && (s & ST_UNUSED)) ||
	       in_volatile(a, pgno);
}

int pst_arena_declare_unused(struct pst_arena *a, uint64_t pgno,
			     uint64_t count)
{
	if (a == NULL || pgno > a->npages || count > a->npages - pgno)
		return -ERR_RANGE;
	for (uint64_t p = pgno, end = pgno + count; p < end;) {
		if (declare_skips(a, p)) {
			p++;
			continue;
		}
		uint64_t q = p + 1;
		while (q < end && !declare_skips(a, q))
			q++;
		int rc = declare_run(a, p, q - p);
		if (rc != 0)
			return rc;
		p = q;
	}
	return 0;
}

/* ---- the volatile range ------------------------------------------------- */

/* arena.h. Declared first, published after: until then the range's pages
 * take the ordinary fault path, and the declaration skips none of them. */
int pst_arena_set_volatile(struct pst_arena *a, uint64_t pgno, uint64_t count)
{
	if (a == NULL || count == 0 || pgno > a->npages ||
	    count > a->npages - pgno)
		return -ERR_INVAL;
	uint64_t want = pgno << 32 | (pgno + count);
	uint64_t cur = LOAD(&a->volatile_range);
	if (cur != 0)
		return cur == want ? 0 : -ERR_INVAL;
	int rc = pst_arena_declare_unused(a, pgno, count);
	if (rc == 0 && !CAS(&a->volatile_range, &cur, want))
		rc = cur == want ? 0 : -ERR_INVAL;    /* a racing call */
	return rc;
}
