/* image.h — a persistent image: the whole of persist/ put together. The store
 * on a block device, the arena paged in lazily from it, and the snapshot
 * engine, whose sink commits each closing epoch's changed pages to the store
 * in one transaction (retried until it commits) and, for a consumer of
 * deltas, encodes the same pages as a delta (the bytes replication ships);
 * a replica applying the delta gets the very same image. Optionally a clock
 * thread takes a snapshot every interval. */
#ifndef PHANTOM_PST_IMAGE_H
#define PHANTOM_PST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "plat.h"
#include "snapshot.h"

struct pst_image_config {
	struct plat_blk *blk;        /* the image's device; not closed by us  */
	uint64_t arena_size;         /* create: the arena's size in bytes     */
	struct pst_world world;      /* how to stop the mutators              */
	uint64_t interval_ns;        /* snapshot period; 0: only on request   */
	uint32_t cow_pages;          /* copy-on-write budget (0: default)     */
	/* Both called by the writer thread once an epoch is committed, with
	 * cb_ctx; either may be NULL. on_delta also gets the epoch's delta
	 * (the bytes replication ships); without it no delta is encoded. */
	void (*on_commit)(void *ctx, uint64_t epoch);
	void (*on_delta)(void *ctx, uint64_t epoch, const void *delta,
			 size_t len);
	void *cb_ctx;
};

struct pst_image_stats {
	struct pst_snap_stats snap;
	struct pst_arena_stats arena;
	uint64_t delta_bytes;        /* sum of committed deltas' sizes (only
				      * encoded for on_delta)                */
	uint64_t raw_bytes;          /* sum of committed pages' raw sizes    */
	uint64_t pages_unchanged;    /* listed dirty, equal to the committed
				      * page: neither shipped nor stored     */
};

struct pst_image;

/* Formats the device as a fresh image (epoch 0, every page zero) and opens it. */
int pst_image_create(const struct pst_image_config *cfg,
		     struct pst_image **out, char *why, size_t whylen);

/* Opens an existing image at its last committed epoch; cfg->arena_size is
 * ignored (the store knows it). On failure `why` says what is wrong. */
int pst_image_open(const struct pst_image_config *cfg, struct pst_image **out,
		   char *why, size_t whylen);

/* Stops the clock, then takes a final snapshot when `final` and waits for it
 * to commit, then stops the writer and releases the arena. Returns 0 or the
 * error that left the final epoch uncommitted. */
int pst_image_close(struct pst_image *img, bool final);

/* Stops the periodic snapshots for good (idempotent): from now on an epoch
 * ends only by pst_image_sync or pst_image_close. */
void pst_image_stop_clock(struct pst_image *img);

void *pst_image_base(const struct pst_image *img);
uint64_t pst_image_size(const struct pst_image *img);
struct pst_snap *pst_image_snap(struct pst_image *img);
struct pst_arena *pst_image_arena(struct pst_image *img);

/* Takes a snapshot now and waits up to timeout_ns for it to commit; gives
 * the epoch. If the device lost that epoch, takes another (whose commit
 * holds the lost one's pages) and gives that. The caller must not be a
 * running mutator. */
int pst_image_sync(struct pst_image *img, uint64_t timeout_ns, uint64_t *epoch);

void pst_image_stats(struct pst_image *img, struct pst_image_stats *out);

/* The store's last committed epoch (the one a reopen would find). */
uint64_t pst_image_committed_epoch(struct pst_image *img);

#endif
