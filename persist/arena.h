/* arena.h — the persistent arena: one region at PLAT_ARENA_BASE, pages brought
 * in lazily from a pager on first touch, and MMU dirty tracking (the first
 * write to a page in an epoch faults, is recorded, and unprotects the page).
 * Also the per-page save state the snapshot engine (snapshot.c) drives: the
 * copy-on-write of a page still being saved happens here, in the fault path.
 *
 * Per-page state, one 32-bit word per page (struct in arena_int.h):
 *
 *   31                     9    8    7   6  4  3      2      1  0
 *  +------------------------+----+---+------+------+------+-----+
 *  | COW slot (when COPIED) |COLD|HOT| save |UNUSED|DIRTY | res |
 *  +------------------------+----+---+------+------+------+-----+
 *   res:   ABSENT (PROT_NONE, never paged in or discarded: its memory reads
 *          as zeros, so a page-in of zeros is a protection change) / LOADING (being
 *          paged in, or being declared unused) / PRESENT / SCRATCH (a
 *          volatile page touched since the call: read-write, untracked;
 *          never PRESENT, so no protection, prepare or fault-around
 *          looking for present pages ever sees it)
 *   DIRTY: the page is on the current epoch's dirty list (at most once), and
 *          is read-write or about to be (the faulting thread is unprotecting it)
 *   UNUSED:declared unused, and reported so: absent (reads as zeros, not
 *          from the pager) or SCRATCH (the volatile range's own data)
 *   save:  NONE / PENDING (closing epoch, not yet saved) / PENDING_UNUSED /
 *          SAVING (writer copying it) / COPYING (fault handler copying it) /
 *          COPIED (its instant contents sit in a COW slot) /
 *          PREPROT (open epoch, DIRTY, re-protected early by
 *          pst_arena_epoch_prepare and not written since)
 *   HOT:   listed by the latest instant (written in the closing epoch),
 *          other than as fresh memory filled in order (below); advisory, for
 *          write fault-around only. Set by the cut, retired by the next
 *          batch's sort for pages that did not come back.
 *   COLD:  its last save found it equal to its committed contents (a
 *          fault-around guess not written after all): the next cut does
 *          not make it HOT, so a guess that keeps failing stops being
 *          taken. Set by pst_arena_save_unchanged (unless the page is
 *          DIRTY again by then), cleared by a write trap (proof of a
 *          write), by being taken along by fault-around, and by the
 *          cut. On a DIRTY page it means the page is fresh memory filled
 *          in order (taken by fresh-page fault-ahead, or the page whose
 *          write took them): the cut does not make it HOT either, as an
 *          allocator's fresh memory is not rewritten in place the next
 *          epoch (a HOT window over it would copy and save its neighbours
 *          for nothing); if the allocator comes back to it, the sequential
 *          path takes it again. Present memory written in order is made
 *          HOT as before: random writes to a dense hot region look the
 *          same, and such a region is rewritten every epoch.
 *
 * States live in a two-level table: a top array of 1 pointer per 16 MiB of
 * arena (32 KiB of pointers for 64 GiB, zero pages until used) and leaves of
 * 4096 entries (32 KiB) allocated when a 16 MiB region is first touched. The
 * fault handler cannot malloc: it takes leaves from a preallocated reserve
 * (cfg.leaf_reserve) that pst_arena_refill() tops up outside the handler (the
 * snapshot writer does so every few ms). If the reserve is empty the faulting
 * thread waits (yielding) for a refill.
 *
 * Copy-on-write: a write fault on a PENDING page first takes a slot from a
 * pool of cfg.cow_pages preallocated pages, then marks the page COPYING,
 * copies it and leaves it COPIED (the writer saves from the slot and frees
 * it). With no free slot the mutator waits in the handler, the page still
 * PENDING, until the writer frees a slot or saves that very page: copy
 * memory is bounded, mutators are slowed, nothing is lost. Because the slot
 * is taken before COPYING, the writer never waits for a waiting copier.
 *
 * Write fault-around: a write fault on a HOT page (one the program wrote in
 * the closing epoch too) also takes that page's neighbours in its aligned
 * window of cfg.write_around pages that are HOT and present: copied first
 * if still PENDING (when a COW slot is free at once; it never waits),
 * listed dirty and unprotected together with the faulting page in one
 * protection change. A hot region then costs one
 * trap per window and epoch instead of one per page. A write fault on the
 * page after one already dirty in this epoch (memory filled in address
 * order, as an allocator carves a free run) likewise takes the window of
 * pages after it that are present, clean and not COLD, HOT or not; when
 * the faulting page was itself COLD (the allocator came back to memory a
 * failed guess cooled) the COLD pages after it are taken too, or each would
 * trap on its own, and that wins over its HOT window. Such a write to an
 * absent page that reads as zeros
 * (fresh memory) takes the window's next absent pages that read as zeros
 * too (declared unused, or never stored: pager.unstored_run), paged in
 * dirty and writable by the same one protection change. A write to a
 * page that pst_arena_epoch_prepare
 * re-protected opens the prepared pages right after it too (listed
 * already: a fill taken ahead and prepared before it was written). It
 * over-approximates the dirty set (a neighbour may not
 * be written after all): the snapshot sink drops pages found equal to their
 * committed contents.
 *
 * Threads: every thread that writes the arena must be a mutator that the
 * snapshot engine's world stop parks (mutator.h); other threads may only read
 * present pages (not volatile pages: their first touch is a fault too). The fault handler takes no locks and never allocates; where
 * it must wait (a page another thread is loading or copying, an empty leaf
 * reserve or COW pool) it calls plat_thread_yield() and then plat_sleep_ns()
 * in a loop, so on bare metal the #PF handler must be allowed to sleep.
 *
 * Limits: page numbers are 32-bit (PLAT_ARENA_MAX is 2^28 pages); at most
 * 2^23 COW slots; a scattered epoch re-protects one run per call, so on Linux
 * more than ~32k separate dirty runs can exceed vm.max_map_count (then the
 * instant panics rather than lose track of writes: raise the sysctl). */
#ifndef PHANTOM_PST_ARENA_H
#define PHANTOM_PST_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plat.h"

/* Where pages come from on first touch: the store at its committed epoch.
 * page_in runs in the fault handler (a signal handler hosted, #PF on bare
 * metal): it must not malloc or take a lock a mutator may hold. It fills buf
 * (PLAT_PAGE_SIZE bytes) and sets *present, or sets *present = false for a
 * page the store never had (it reads as zeros). A failure makes the fault
 * fatal: a page that cannot be read cannot be given to the program. */
struct pst_pager {
	void *ctx;
	int (*page_in)(void *ctx, uint64_t pgno, void *buf, bool *present);
	/* Optional, same rules: how many pages from pgno on, at most max, the
	 * store never had (*count). Lets a sequential fill of fresh memory
	 * take the pages ahead in one fault (without it, only pages declared
	 * unused are). */
	int (*unstored_run)(void *ctx, uint64_t pgno, uint32_t max,
			    uint32_t *count);
};

struct pst_arena_config {
	uint64_t size;           /* bytes, page multiple, <= PLAT_ARENA_MAX      */
	struct pst_pager pager;  /* page_in NULL: every page starts as zeros      */
	uint32_t cow_pages;      /* COW copy budget, pages (0: default 1024)      */
	uint32_t leaf_reserve;   /* preallocated leaves (0: default 16)           */
	uint32_t write_around;   /* fault-around window, pages, a power of two
				  * (0: default 64; 1: off)                    */
};

struct pst_arena_stats {
	uint64_t read_faults;    /* faults that paged a page in for a read        */
	uint64_t write_faults;   /* pages marked dirty by a write fault           */
	uint64_t around_pages;   /* neighbours marked dirty by fault-around       */
	uint64_t page_ins;       /* pages filled (from the pager or as zeros)     */
	uint64_t pager_hits;     /* page_in calls that returned contents          */
	uint64_t cow_copies;     /* pages copied before being saved               */
	uint64_t cow_waits;      /* faults that waited for a free COW slot        */
	uint64_t cow_wait_ns;    /* total time mutators waited for COW slots      */
	uint64_t leaf_waits;     /* faults that waited for a leaf refill          */
	uint64_t volatile_faults;/* faults on volatile pages: a first touch
				  * (zero-filled) or one racing it; counted
				  * nowhere else                              */
	uint64_t prep_faults;    /* writes to pages pst_arena_epoch_prepare
				  * re-protected (listed already: counted
				  * nowhere else)                             */
	uint32_t cow_free;       /* free COW slots now                            */
	uint32_t cow_total;
};

struct pst_arena;

/* Reserves the arena at PLAT_ARENA_BASE (nothing touched, every page
 * PROT_NONE) and installs the fault handler. One arena at a time. */
int pst_arena_open(const struct pst_arena_config *cfg, struct pst_arena **out);
int pst_arena_close(struct pst_arena *a);

void *pst_arena_base(const struct pst_arena *a);
uint64_t pst_arena_pages(const struct pst_arena *a);
void pst_arena_stats(struct pst_arena *a, struct pst_arena_stats *out);

/* Tops up the leaf reserve; never call from the fault handler. */
int pst_arena_refill(struct pst_arena *a);

/* The heap allocator's word that [pgno, pgno+count) hold nothing: their
 * memory is discarded (they read back as zeros, without asking the pager)
 * and the current epoch reports them to the sink as unused rather than as
 * pages. Touching such a page again (even a read) makes it an ordinary page
 * of zeros, saved as a page. Pages still unused and untouched since an
 * earlier declaration are skipped (they cost a state lookup, no listing and
 * no system call), so declaring a range again is cheap. Leaves for the whole
 * range are allocated (32 KiB per 16 MiB). Pages of the volatile range
 * (below) are skipped: they hold nothing the store keeps. Called by a
 * mutator; no thread may access the range meanwhile. */
int pst_arena_declare_unused(struct pst_arena *a, uint64_t pgno,
			     uint64_t count);

/* [pgno, pgno+count) becomes scratch memory for the rest of this open of
 * the arena (the VM's nursery, empty at every snapshot instant). What the
 * range held is dropped first, exactly as by pst_arena_declare_unused (the
 * current epoch reports those pages unused, so the store stops holding
 * them). From then on the first touch of a page (read or write) gives it
 * zeros, read-write, without the pager and without listing it dirty, and
 * nothing protects it again: it is never trapped on, listed in a batch,
 * copied, taken by fault-around or saved. Its contents are lost at close or
 * crash; a reopen reads the range as of the last committed epoch (zeros
 * once the epoch of the call committed) until this is called again. One
 * range per open: -ERR_INVAL for count 0, a range past the arena's end, or
 * a range other than the one already set (the same range again is a no-op
 * returning 0). Called by a mutator; no thread may access the range until
 * it returns, and no other mutator may be faulting next to it meanwhile
 * (write fault-around could unprotect a page of it that the call then
 * drops; declare_unused has the same rule). */
int pst_arena_set_volatile(struct pst_arena *a, uint64_t pgno, uint64_t count);

/* ---- for the snapshot engine (snapshot.c) only ------------------------- */

/* The closing epoch's pages, sorted ascending, each once. */
struct pst_arena_batch {
	uint32_t *pages;
	size_t count;
	struct pst_arena *arena;     /* set by the cut */
};

/* The snapshot instant; call with every mutator parked. Takes the current
 * dirty list, marks each page PENDING (or PENDING_UNUSED), write-protects the
 * present ones again in runs, and starts an empty list. Cost is O(dirty
 * pages). The previous batch must be fully saved (pst_arena_save_done on
 * every page) first. A failed re-protect is a broken invariant (the epoch
 * could no longer be saved consistently): it panics. -ERR_NOMEM leaves the
 * epoch open and nothing changed. */
int pst_arena_epoch_close(struct pst_arena *a, struct pst_arena_batch *out);

/* pst_arena_epoch_close in two halves, so the sort leaves the pause: cut
 * is the instant (the batch in no order), batch_sort then puts it in
 * ascending order (-ERR_NOMEM leaves it unsorted). */
int pst_arena_epoch_cut(struct pst_arena *a, struct pst_arena_batch *out);
int pst_arena_batch_sort(struct pst_arena_batch *b);

/* Optional, just before the instant, with mutators running (the previous
 * batch fully saved, no epoch_close meanwhile): write-protects the open
 * epoch's present dirty pages now, so the instant need only protect those
 * written again since. A write to a prepared page faults once more (it is
 * unprotected and left for the instant), so this pays only for big epochs:
 * below 512 dirty pages it does nothing. Failure changes nothing the
 * instant relies on. */
int pst_arena_epoch_prepare(struct pst_arena *a);
void pst_arena_batch_free(struct pst_arena_batch *b);

/* Tests only: fn(ctx, pgno) runs in the write-fault path after a page is
 * listed dirty and before it is unprotected (where a concurrent prepare
 * may act). NULL removes it. */
void pst_arena_set_dirty_hook(struct pst_arena *a,
			      void (*fn)(void *ctx, uint32_t pgno), void *ctx);

enum pst_save_kind { PST_SAVE_PAGE = 1, PST_SAVE_UNUSED = 2 };

/* Writer side of one PENDING page: gives its contents at the instant (copied
 * into buf, or pointing into its COW slot) or says it was declared unused.
 * Returns a pst_save_kind or -ERR_x. The contents stay valid until
 * pst_arena_save_done(), which frees the COW slot and ends the page's save. */
int pst_arena_save_page(struct pst_arena *a, uint32_t pgno, void *buf,
			const void **contents);
void pst_arena_save_done(struct pst_arena *a, uint32_t pgno);
/* pst_arena_save_done for a page the sink found equal to its committed
 * contents: also marks it COLD (above). */
void pst_arena_save_unchanged(struct pst_arena *a, uint32_t pgno);
/* A page saved in an epoch that could not be committed goes back on the
 * open epoch's dirty list (if a write has not put it there already), so
 * the next epoch saves it again. Call only after its save ended. */
void pst_arena_save_lost(struct pst_arena *a, uint32_t pgno);

#endif
