/* snapshot.h — epochs and consistent snapshots without stopping the world for
 * long: the snapshot instant (world stopped, epoch advanced, the closing
 * epoch's dirty pages write-protected again, world resumed) and a writer
 * thread that hands that epoch's pages, exactly as they were at the instant,
 * to a sink (the store and delta codec, connected by the caller).
 *
 * Epochs: the arena opens in epoch committed+1. pst_snap_take() closes the
 * current epoch E and opens E+1; the writer then calls the sink, in order,
 * epoch_begin(E), page()/page_unused() once per page dirtied or declared
 * unused in E (ascending page numbers), epoch_end(E); when epoch_end returns
 * 0, E is committed. At most one epoch is being written: take() waits for the
 * previous epoch to commit before its instant. A sink call that fails is
 * counted, reported once per epoch on the console and repeated with the same
 * arguments (backoff 1 ms to 100 ms) until it succeeds: so a sink must accept
 * a repeated call. Committed never goes back, and an epoch is never
 * skipped but in one case: epoch_end returns PST_SINK_LOST when the epoch
 * can never be committed (the device lost pages the sink had saved); the
 * engine then lists its pages dirty again in the open epoch, so the next
 * epoch to commit holds them (with their contents at its own instant), and
 * waiters for the lost epoch wait for that one. Only close() gives up on an
 * epoch whose sink keeps failing (it is then not committed, and close()
 * returns the error). */
#ifndef PHANTOM_PST_SNAPSHOT_H
#define PHANTOM_PST_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"

#define PST_SINK_UNCHANGED 1     /* page(): equal to the committed page  */
#define PST_SINK_LOST      2     /* epoch_end(): can never be committed  */

/* Where a closing epoch goes. Called only by the writer thread, in order. */
struct pst_sink {
	void *ctx;
	int (*epoch_begin)(void *ctx, uint64_t epoch);
	/* contents: PLAT_PAGE_SIZE bytes exactly as at the snapshot instant,
	 * valid only during the call. Returns 0, PST_SINK_UNCHANGED (the page
	 * equals its committed contents; nothing was needed) or -ERR_x. */
	int (*page)(void *ctx, uint64_t epoch, uint64_t pgno,
		    const void *contents);
	int (*page_unused)(void *ctx, uint64_t epoch, uint64_t pgno);
	/* 0: durably committed; PST_SINK_LOST (above) or -ERR_x (retried). */
	int (*epoch_end)(void *ctx, uint64_t epoch);
};

/* The safepoint callback the VM provides (mutator.h has a simple one). */
struct pst_world {
	void *ctx;
	void (*stop)(void *ctx);     /* returns when every mutator is parked */
	void (*resume)(void *ctx);
};

struct pst_snap_config {
	struct pst_arena *arena;
	struct pst_sink sink;
	struct pst_world world;
	uint64_t committed_epoch;    /* the store's committed epoch at open */
};

struct pst_snap_stats {
	uint64_t epochs_committed;
	uint64_t epochs_lost;        /* PST_SINK_LOST: carried into the next */
	uint64_t pages_saved;        /* sink->page calls that succeeded      */
	uint64_t pages_unused;       /* sink->page_unused calls that did     */
	uint64_t sink_errors;        /* failed sink calls (each retried)     */
	int last_error;              /* the latest sink error, or 0          */
	uint64_t last_pause_ns;      /* world stopped, last instant          */
	uint64_t max_pause_ns;
	uint64_t last_pause_pages;   /* dirty pages at that instant          */
};

struct pst_snap;

/* Starts the writer thread. The arena must stay open until close. */
int pst_snap_open(const struct pst_snap_config *cfg, struct pst_snap **out);

/* Lets the epoch being written finish (giving up only if its sink keeps
 * failing), stops the writer and frees. 0, or the error that left the last
 * epoch uncommitted. An epoch the device lost (PST_SINK_LOST) is not an
 * error here: its pages went back to the open epoch, whose writes a close
 * without a final pst_snap_take drops, lost or not. The arena keeps its
 * state. */
int pst_snap_close(struct pst_snap *s);

/* The snapshot instant: closes the current epoch and gives its number in
 * *epoch (may be NULL). Waits first for the previous epoch to commit. The
 * caller must not be a running mutator (pst_mut_block() around it). Takes
 * from several threads are serialised; none may overlap pst_snap_close(). */
int pst_snap_take(struct pst_snap *s, uint64_t *epoch);

/* Waits until epoch is committed; -ERR_TIMEDOUT after timeout_ns.
 * -ERR_AGAIN when the epoch was lost and no later one is being written:
 * take another snapshot and wait for that. */
int pst_snap_wait(struct pst_snap *s, uint64_t epoch, uint64_t timeout_ns);

uint64_t pst_snap_committed_epoch(struct pst_snap *s);
uint64_t pst_snap_current_epoch(struct pst_snap *s);
void pst_snap_stats(struct pst_snap *s, struct pst_snap_stats *out);

#endif
