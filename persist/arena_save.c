/* arena_save.c — the arena's side of a snapshot: the early re-protection
 * before an instant (epoch_prepare), the instant itself (epoch_cut: dirty
 * list to PENDING pages, re-protected in runs), the batch's sort, and the
 * writer's save_page/save_done. State word and thread rules: arena.h. */
#include <stdlib.h>
#include <string.h>

#include "arena_int.h"

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

/* Re-protects the present pages of prot[0..n) (ascending), one run per
 * call (each call may split a VMA; see BAREMETAL-NOTES, max_map_count). A
 * run bridges a gap of up to MERGE_GAP pages that are all present: those
 * are clean or already re-protected, so read-only (a SCRATCH page, writable
 * for good, is not present: a run never spans the volatile range). Cost
 * O(n). */
static int protect_runs(struct pst_arena *a, const uint32_t *prot, size_t n,
			bool in_instant)
{
	for (size_t r = 0; r < n;) {
		size_t end = r + 1;
		while (end < n && prot[end] - prot[end - 1] <= MERGE_GAP + 1 &&
		       (in_instant || prot[end] == prot[end - 1] + 1) &&
		       gap_present(a, prot[end - 1] + 1, prot[end]))
			end++;
		uint64_t len = (uint64_t)(prot[end - 1] - prot[r] + 1) * PG;
		int rc = plat_mem_protect(page_addr(a, prot[r]), len,
					  PLAT_PROT_READ);
		if (rc != 0) {
			if (in_instant)
				plat_panic("pst_arena_epoch_close: re-protecting "
					   "%zu pages at %u: %s", end - r,
					   prot[r], err_str(rc));
			return rc;
		}
		r = end;
	}
	return 0;
}

/* Takes a consistent copy of the open epoch's dirty list while mutators
 * run: a listed page is DIRTY, and only the instant clears DIRTY, so no
 * page on the list is pushed again (its link stays put) meanwhile. At most
 * max pages, the newest first. */
static size_t list_copy(struct pst_arena *a, uint32_t *out, size_t max)
{
	size_t i = 0;
	for (uint32_t p = LOAD(&a->dirty_head); p != NIL && i < max;
	     p = pg_lookup(a, p)->next)
		out[i++] = p;
	return i;
}

int pst_arena_epoch_prepare(struct pst_arena *a)
{
	size_t n = atomic_load(&a->dirty_count);
	if (n < PREPROTECT_MIN)
		return 0;
	uint32_t *pages = malloc(n * sizeof *pages);
	uint32_t *tmp = malloc(n * sizeof *tmp);
	int rc = -ERR_NOMEM;
	if (pages == NULL || tmp == NULL)
		goto out;
	n = list_copy(a, pages, n);
	sort_pages(pages, tmp, n);
	/* Mark, then protect: a write between the two lands before the
	 * protection (and so before the instant); one after it faults and
	 * clears S_PREPROT. Only present pages of plain runs are marked. */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct pst_pg *e = pg_lookup(a, pages[i]);
		uint32_t s = LOAD(&e->st);
		if ((s & RES_MASK) == RES_PRESENT && (s & ST_DIRTY) &&
		    !(s & ST_UNUSED) && SAVE(s) == S_NONE &&
		    CAS(&e->st, &s, SAVE_SET(s, S_PREPROT)))
			pages[k++] = pages[i];
	}
	rc = protect_runs(a, pages, k, false);
	if (rc != 0)          /* the instant protects them after all */
		for (size_t i = 0; i < k; i++) {
			struct pst_pg *e = pg_lookup(a, pages[i]);
			uint32_t s = LOAD(&e->st);
			while (SAVE(s) == S_PREPROT &&
			       !CAS(&e->st, &s, SAVE_SET(s, S_NONE)))
				;
		}
out:
	free(pages);
	free(tmp);
	return rc;
}

int pst_arena_epoch_cut(struct pst_arena *a, struct pst_arena_batch *out)
{
	size_t n = atomic_load(&a->dirty_count);
	size_t sz = (n ? n : 1) * sizeof(uint32_t);
	uint32_t *pages = malloc(sz), *prot = malloc(sz), *tmp = malloc(sz);
	if (pages == NULL || prot == NULL || tmp == NULL) {
		free(pages);
		free(prot);
		free(tmp);
		return -ERR_NOMEM;
	}
	uint32_t p = atomic_exchange(&a->dirty_head, NIL);
	atomic_store(&a->dirty_count, 0);
	/* prot: the pages still to protect (present, not prepared). A page
	 * listed twice meets its own PENDING the second time. */
	size_t i = 0, np = 0;
	while (p != NIL) {
		if (i == n)
			plat_panic("pst_arena_epoch_close: more than %zu listed", n);
		struct pst_pg *e = pg_lookup(a, p);
		uint32_t s = LOAD(&e->st);
		if (SAVE(s) != S_NONE && SAVE(s) != S_PREPROT)
			plat_panic("pst_arena_epoch_close: page %u listed twice "
				   "or still being saved", p);
		if ((s & RES_MASK) == RES_PRESENT && SAVE(s) != S_PREPROT)
			prot[np++] = p;
		/* The writer is idle now (take waits for it), so nothing
		 * else changes this word: a plain store is enough. */
		atomic_store(&e->st, SAVE_SET(s & ~(ST_DIRTY | ST_COLD | ST_HOT),
				(s & ST_UNUSED) ? S_PENDING_UNUSED : S_PENDING) |
				((s & ST_COLD) ? 0 : ST_HOT));
		pages[i++] = p;
		p = e->next;
	}
	if (i != n)
		plat_panic("pst_arena_epoch_close: %zu listed, %zu counted", i, n);
	sort_pages(prot, tmp, np);
	protect_runs(a, prot, np, true);
	free(prot);
	free(tmp);
	out->pages = pages;
	out->count = n;
	out->arena = a;
	return 0;
}

/* Clears HOT on the previous batch's pages that this batch did not list
 * again: before any of this batch is saved, exactly those are NONE (a
 * listed page is PENDING, COPYING or COPIED until the writer saves it). */
static void retire_hot(struct pst_arena *a)
{
	for (size_t i = 0; i < a->nhot_prev; i++) {
		struct pst_pg *e = pg_lookup(a, a->hot_prev[i]);
		uint32_t s = LOAD(&e->st);
		while ((s & ST_HOT) && SAVE(s) == S_NONE &&
		       !CAS(&e->st, &s, s & ~ST_HOT))
			;
	}
	free(a->hot_prev);
	a->hot_prev = NULL;
	a->nhot_prev = 0;
}

int pst_arena_batch_sort(struct pst_arena_batch *b)
{
	if (b->arena != NULL)
		retire_hot(b->arena);
	uint32_t *tmp = malloc((b->count ? b->count : 1) * sizeof *tmp);
	if (tmp == NULL)
		return -ERR_NOMEM;
	sort_pages(b->pages, tmp, b->count);
	free(tmp);
	return 0;
}

int pst_arena_epoch_close(struct pst_arena *a, struct pst_arena_batch *out)
{
	int rc = pst_arena_epoch_cut(a, out);
	if (rc == 0 && (rc = pst_arena_batch_sort(out)) != 0)
		plat_panic("pst_arena_epoch_close: no memory to sort %zu pages",
			   out->count);
	return rc;
}

void pst_arena_batch_free(struct pst_arena_batch *b)
{
	struct pst_arena *a = b->arena;
	if (a != NULL && b->pages != NULL) {   /* retired at the next sort */
		free(a->hot_prev);
		a->hot_prev = b->pages;
		a->nhot_prev = b->count;
	} else {
		free(b->pages);
	}
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

void pst_arena_save_unchanged(struct pst_arena *a, uint32_t pgno)
{
	pst_arena_save_done(a, pgno);
	struct pst_pg *e = pg_lookup(a, pgno);
	if (e == NULL)
		return;
	/* A page written again meanwhile (DIRTY: trapped or taken along
	 * while the sink compared) is no failed guess: leave it. */
	uint32_t s = LOAD(&e->st);
	while (!(s & ST_DIRTY) && !CAS(&e->st, &s, s | ST_COLD))
		;
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
