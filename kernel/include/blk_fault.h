/* blk_fault.h — a fault-injecting block device: wraps any struct plat_blk and
 * behaves like a disk with a volatile write cache, which can be told to fail,
 * tear, lose, flip or shrink. Portable (plat.h only); used by tests.
 *
 * Model: write() goes to an in-memory cache of pending writes (reads see it);
 * flush() applies the pending writes in order to the lower device and flushes
 * that. A simulated power cut lets a seeded random subset of the pending
 * writes reach the lower device, some torn to a prefix of their sectors.
 * Countdowns ("the nth write from now") count from 0 = the next one. The
 * device operations are serialised (a read may come from one thread while
 * another flushes); the controls below are for one test thread, and the
 * countdowns, clear, stats and power_cut may run while other threads do
 * I/O (they take the same lock; the flips and truncate may not). */
#ifndef PHANTOM_BLK_FAULT_H
#define PHANTOM_BLK_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "plat.h"

struct blkfault;

struct blkfault_stats {
	uint64_t reads, writes, flushes;   /* calls since wrap, failed ones too */
	uint64_t pending;                  /* writes not yet flushed            */
	bool dead;                         /* power is off (after cut_at)       */
};

/* Wraps lower. If own_lower, closing the wrapper closes lower too. */
int blkfault_wrap(struct plat_blk *lower, bool own_lower, struct blkfault **out);
/* The wrapper as a device; plat_blk_close() on it frees the wrapper after
 * applying any pending writes (a clean shutdown). */
struct plat_blk *blkfault_dev(struct blkfault *f);

/* The nth write from now returns -ERR_IO and writes nothing. */
void blkfault_fail_write(struct blkfault *f, uint64_t n);
/* The nth flush from now returns -ERR_IO; pending writes stay pending. */
void blkfault_fail_flush(struct blkfault *f, uint64_t n);
/* The nth write from now stores only its first `sectors` sectors and still
 * returns 0 (a silent torn write). */
void blkfault_tear_write(struct blkfault *f, uint64_t n, uint32_t sectors);
/* Power is lost at the nth write-or-flush from now: that call and every call
 * after it fail with -ERR_IO until blkfault_power_cut(). */
void blkfault_cut_at(struct blkfault *f, uint64_t n);
/* Power cut now: each pending write independently is lost, lands whole, or
 * lands torn (a random prefix of its sectors), chosen by seed; then power is
 * back and the cache is empty. 0 or the lower device's error. */
int blkfault_power_cut(struct blkfault *f, uint64_t seed);
/* Flip bit `bit` (0..7) of byte `off` in what every later read returns
 * (up to 8 such flips), the stored data unchanged. */
int blkfault_flip_read(struct blkfault *f, uint64_t off, unsigned bit);
/* Flip bit `bit` of byte `off` in the stored data (lower device and any
 * pending write covering it). */
int blkfault_flip_stored(struct blkfault *f, uint64_t off, unsigned bit);
/* The device now ends at size (rounded down to a sector): I/O beyond it
 * fails with -ERR_RANGE and pending writes beyond it are lost. */
int blkfault_truncate(struct blkfault *f, uint64_t size);
/* Disarms every fault (flips, countdowns); the pending cache is kept. */
void blkfault_clear(struct blkfault *f);
void blkfault_stats(const struct blkfault *f, struct blkfault_stats *st);

#endif
