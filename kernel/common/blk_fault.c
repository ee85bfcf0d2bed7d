/* blk_fault.c — the fault-injecting block device (blk_fault.h): a volatile
 * write cache over any struct plat_blk with countdown faults, torn writes,
 * seeded power cuts, bit flips and truncation. Portable code on plat.h. */
#include <stdlib.h>
#include <string.h>

#include "blk_fault.h"

#define BF_MAX_FLIPS 8
#define BF_OFF UINT64_MAX     /* countdown disarmed */

struct bf_write {
	uint64_t off;
	size_t len;
	uint8_t *data;
};

struct bf_flip {
	uint64_t off;
	uint8_t mask;
};

struct blkfault {
	struct plat_blk pub;        /* first: plat_blk * <-> blkfault * */
	struct plat_blk *lower;
	bool own_lower;
	struct bf_write *w;         /* pending writes, oldest first */
	size_t nw, cw;
	uint64_t fail_write, fail_flush, tear_write, cut;
	uint32_t tear_sectors;
	struct bf_flip flips[BF_MAX_FLIPS];
	unsigned nflips;
	bool dead;
	struct blkfault_stats st;
	plat_mutex *mu;             /* one device operation at a time */
};

static int bf_check(struct blkfault *f, uint64_t off, const void *buf, size_t len)
{
	if (buf == NULL || off % PLAT_SECTOR_SIZE || len % PLAT_SECTOR_SIZE)
		return -ERR_INVAL;
	if (off > f->pub.size || len > f->pub.size - off)
		return -ERR_RANGE;
	return 0;
}

/* Counts a write-or-flush toward the power cut; true if power is off. */
static bool bf_power_lost(struct blkfault *f)
{
	if (f->dead)
		return true;
	if (f->cut != BF_OFF && f->cut-- == 0) {
		f->cut = BF_OFF;
		f->dead = true;
	}
	return f->dead;
}

/* True when this call is the one the countdown names. */
static bool bf_fires(uint64_t *n)
{
	if (*n == BF_OFF)
		return false;
	if ((*n)-- == 0) {
		*n = BF_OFF;
		return true;
	}
	return false;
}

static void overlay(uint64_t off, uint8_t *buf, size_t len, uint64_t woff,
		    const uint8_t *wdata, size_t wlen)
{
	uint64_t lo = off > woff ? off : woff;
	uint64_t hi = off + len < woff + wlen ? off + len : woff + wlen;
	if (lo < hi)
		memcpy(buf + (lo - off), wdata + (lo - woff), (size_t)(hi - lo));
}

static int read_locked(struct blkfault *f, uint64_t off, void *buf, size_t len)
{
	f->st.reads++;
	int rc = bf_check(f, off, buf, len);
	if (rc < 0)
		return rc;
	if (f->dead)
		return -ERR_IO;
	if ((rc = plat_blk_read(f->lower, off, buf, len)) < 0)
		return rc;
	for (size_t i = 0; i < f->nw; i++)
		overlay(off, buf, len, f->w[i].off, f->w[i].data, f->w[i].len);
	for (unsigned i = 0; i < f->nflips; i++)
		if (f->flips[i].off >= off && f->flips[i].off < off + len)
			((uint8_t *)buf)[f->flips[i].off - off] ^= f->flips[i].mask;
	return 0;
}

static int write_locked(struct blkfault *f, uint64_t off, const void *buf,
			size_t len)
{
	f->st.writes++;
	int rc = bf_check(f, off, buf, len);
	if (rc < 0)
		return rc;
	if (bf_power_lost(f) || bf_fires(&f->fail_write))
		return -ERR_IO;
	if (bf_fires(&f->tear_write)) {
		size_t keep = (size_t)f->tear_sectors * PLAT_SECTOR_SIZE;
		if (keep < len)
			len = keep;
	}
	if (len == 0)
		return 0;
	if (f->nw == f->cw) {
		size_t n = f->cw ? f->cw * 2 : 32;
		struct bf_write *p = realloc(f->w, n * sizeof *p);
		if (p == NULL)
			return -ERR_NOMEM;
		f->w = p;
		f->cw = n;
	}
	uint8_t *copy = malloc(len);
	if (copy == NULL)
		return -ERR_NOMEM;
	memcpy(copy, buf, len);
	f->w[f->nw++] = (struct bf_write){ off, len, copy };
	f->st.pending = f->nw;
	return 0;
}

static void drop_pending(struct blkfault *f)
{
	for (size_t i = 0; i < f->nw; i++)
		free(f->w[i].data);
	f->nw = 0;
	f->st.pending = 0;
}

/* Applies every pending write, in order, to the lower device and flushes it. */
static int apply(struct blkfault *f)
{
	for (size_t i = 0; i < f->nw; i++) {
		int rc = plat_blk_write(f->lower, f->w[i].off, f->w[i].data,
					f->w[i].len);
		if (rc < 0)
			return rc;
	}
	drop_pending(f);
	return plat_blk_flush(f->lower);
}

static int flush_locked(struct blkfault *f)
{
	f->st.flushes++;
	if (bf_power_lost(f) || bf_fires(&f->fail_flush))
		return -ERR_IO;
	return apply(f);
}

/* The device operations may come from several threads (a store lets a
 * read run while another thread's write or flush is under way): one at a
 * time. */
static int bf_read(struct plat_blk *b, uint64_t off, void *buf, size_t len)
{
	struct blkfault *f = (struct blkfault *)b;
	plat_mutex_lock(f->mu);
	int rc = read_locked(f, off, buf, len);
	plat_mutex_unlock(f->mu);
	return rc;
}

static int bf_write(struct plat_blk *b, uint64_t off, const void *buf, size_t len)
{
	struct blkfault *f = (struct blkfault *)b;
	plat_mutex_lock(f->mu);
	int rc = write_locked(f, off, buf, len);
	plat_mutex_unlock(f->mu);
	return rc;
}

static int bf_flush(struct plat_blk *b)
{
	struct blkfault *f = (struct blkfault *)b;
	plat_mutex_lock(f->mu);
	int rc = flush_locked(f);
	plat_mutex_unlock(f->mu);
	return rc;
}

static void bf_close(struct plat_blk *b)
{
	struct blkfault *f = (struct blkfault *)b;
	if (!f->dead)
		apply(f);
	drop_pending(f);
	if (f->own_lower)
		plat_blk_close(f->lower);
	free(f->w);
	plat_mutex_free(f->mu);
	free(f);
}

static const struct plat_blk_ops bf_ops = {
	.read = bf_read,
	.write = bf_write,
	.flush = bf_flush,
	.close = bf_close,
};

int blkfault_wrap(struct plat_blk *lower, bool own_lower, struct blkfault **out)
{
	if (lower == NULL || out == NULL)
		return -ERR_INVAL;
	struct blkfault *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -ERR_NOMEM;
	int rc = plat_mutex_new(&f->mu);
	if (rc != 0) {
		free(f);
		return rc;
	}
	f->pub.ops = &bf_ops;
	f->pub.size = lower->size;
	f->pub.name = lower->name ? lower->name : "blkfault";
	f->lower = lower;
	f->own_lower = own_lower;
	blkfault_clear(f);
	*out = f;
	return 0;
}

struct plat_blk *blkfault_dev(struct blkfault *f) { return &f->pub; }

/* The controls take the device's lock too: a test arms faults and cuts the
 * power while another thread does I/O. */
#define LOCKED(f, body) do { plat_mutex_lock((f)->mu); body; \
			     plat_mutex_unlock((f)->mu); } while (0)

void blkfault_fail_write(struct blkfault *f, uint64_t n) { LOCKED(f, f->fail_write = n); }
void blkfault_fail_flush(struct blkfault *f, uint64_t n) { LOCKED(f, f->fail_flush = n); }
void blkfault_cut_at(struct blkfault *f, uint64_t n) { LOCKED(f, f->cut = n); }

void blkfault_tear_write(struct blkfault *f, uint64_t n, uint32_t sectors)
{
	LOCKED(f, f->tear_write = n; f->tear_sectors = sectors);
}

void blkfault_clear(struct blkfault *f)
{
	LOCKED(f, f->fail_write = f->fail_flush = f->tear_write = f->cut = BF_OFF;
	       f->nflips = 0);
}

void blkfault_stats(const struct blkfault *f, struct blkfault_stats *st)
{
	LOCKED(f, *st = f->st; st->dead = f->dead);
}

/* xorshift64*: reproducible choices from the seed (not for secrets). */
static uint64_t bf_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1Dull;
}

int blkfault_power_cut(struct blkfault *f, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	int rc = 0;
	plat_mutex_lock(f->mu);
	for (size_t i = 0; i < f->nw && rc == 0; i++) {
		uint64_t r = bf_rand(&x);
		size_t sectors = f->w[i].len / PLAT_SECTOR_SIZE;
		size_t keep = 0;
		switch (r % 3) {
		case 0: keep = 0; break;                        /* lost   */
		case 1: keep = sectors; break;                  /* landed */
		default: keep = (size_t)((r >> 8) % sectors); break; /* torn */
		}
		if (keep)
			rc = plat_blk_write(f->lower, f->w[i].off, f->w[i].data,
					    keep * PLAT_SECTOR_SIZE);
	}
	drop_pending(f);
	f->dead = false;
	f->cut = BF_OFF;
	if (rc == 0)
		rc = plat_blk_flush(f->lower);
	plat_mutex_unlock(f->mu);
	return rc;
}

int blkfault_flip_read(struct blkfault *f, uint64_t off, unsigned bit)
{
	if (f->nflips == BF_MAX_FLIPS || bit > 7 || off >= f->pub.size)
		return -ERR_RANGE;
	f->flips[f->nflips++] = (struct bf_flip){ off, (uint8_t)(1u << bit) };
	return 0;
}

int blkfault_flip_stored(struct blkfault *f, uint64_t off, unsigned bit)
{
	uint8_t sec[PLAT_SECTOR_SIZE];
	if (bit > 7 || off >= f->pub.size)
		return -ERR_RANGE;
	uint64_t base = off - off % PLAT_SECTOR_SIZE;
	int rc = plat_blk_read(f->lower, base, sec, sizeof sec);
	if (rc < 0)
		return rc;
	sec[off - base] ^= (uint8_t)(1u << bit);
	if ((rc = plat_blk_write(f->lower, base, sec, sizeof sec)) < 0 ||
	    (rc = plat_blk_flush(f->lower)) < 0)
		return rc;
	for (size_t i = 0; i < f->nw; i++)
		if (off >= f->w[i].off && off < f->w[i].off + f->w[i].len)
			f->w[i].data[off - f->w[i].off] ^= (uint8_t)(1u << bit);
	return 0;
}

int blkfault_truncate(struct blkfault *f, uint64_t size)
{
	size -= size % PLAT_SECTOR_SIZE;
	if (size > f->lower->size)
		return -ERR_RANGE;
	f->pub.size = size;
	size_t k = 0;
	for (size_t i = 0; i < f->nw; i++) {
		struct bf_write w = f->w[i];
		if (w.off >= size) {
			free(w.data);
			continue;
		}
		if (w.len > size - w.off)
			w.len = (size_t)(size - w.off);
		f->w[k++] = w;
	}
	f->nw = k;
	f->st.pending = k;
	return 0;
}
