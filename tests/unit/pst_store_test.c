/* pst_store_test.c — the on-disk store against an in-memory model: round
 * trips over many epochs, drop and reclaim, meta, epoch rules, a power cut at
 * every I/O of a commit, flipped bits in data/map/superblocks, fallback,
 * truncation, failed writes and flushes, lazy open; over an in-memory disk
 * wrapped in blk_fault, and once over a hosted file. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "blk_fault.h"
#include "ram_blk.h"
#include "../../persist/store.h"
#include "../../persist/delta_format.h"
#include "../../kernel/hosted/hosted.h"   /* tests get only -Ikernel/include */

#define PG 4096u

static struct ram_blk ram;   /* the disk, in memory */
static struct blkfault *bf;
static struct plat_blk *dev;

/* A fresh disk of `blocks` blocks wrapped in a fresh fault device. */
static void disk_new(uint64_t blocks)
{
	free(ram.data);
	ram_blk_init(&ram, calloc(blocks, PG), blocks * PG);
	bf = NULL;
	if (blkfault_wrap(&ram.pub, false, &bf) == 0)
		dev = blkfault_dev(bf);
}

/* A new fault device over the same disk (after a crash or to disarm). */
static void rewrap(void)
{
	plat_blk_close(dev);
	bf = NULL;
	if (blkfault_wrap(&ram.pub, false, &bf) == 0)
		dev = blkfault_dev(bf);
}

/* ---- the model ------------------------------------------------------- */
/* ver[p] = 0: absent; otherwise the page's content is gen(p, ver). */
static void gen(uint64_t pgno, uint32_t ver, uint8_t *buf)
{
	if (ver == 0) {
		memset(buf, 0, PG);
		return;
	}
	uint64_t x = pgno * 0x9E3779B97F4A7C15ull ^ ((uint64_t)ver << 32 | ver);
	for (unsigned i = 0; i < PG; i += 8) {
		x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
		uint64_t v = x * 0x2545F4914F6CDD1Dull;
		memcpy(buf + i, &v, 8);
	}
	memcpy(buf, &pgno, 8);
	buf[8] = 1;                       /* never all zeros */
	memcpy(buf + 12, &ver, 4);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
	return rng;
}

/* Compares pages [first, first + n) of the store with the model; a message
 * on mismatch. */
static const char *verify_range(struct pst_store *s, const uint32_t *ver,
				uint64_t first, uint64_t n)
{
	static char msg[512];
	static uint8_t want[PG], got[PG];
	for (uint64_t p = first; p < first + n; p++) {
		bool present = !ver[p];
		int rc = pst_store_read_page(s, p, got, &present);
		gen(p, ver[p], want);
		if (rc != 0) {
			snprintf(msg, sizeof msg, "page %llu: rc %d: %s",
				 (unsigned long long)p, rc, pst_store_last_error(s));
			return msg;
		}
		if (present != (ver[p] != 0) || memcmp(want, got, PG) != 0) {
			snprintf(msg, sizeof msg, "page %llu: want version %u "
				 "(present %d), got present %d / other bytes",
				 (unsigned long long)p, ver[p], ver[p] != 0, present);
			return msg;
		}
	}
	return NULL;
}

static const char *verify(struct pst_store *s, const uint32_t *ver, uint64_t n)
{
	return verify_range(s, ver, 0, n);
}

/* A txn of epoch `epoch` with a random change set, also applied to the
 * model copy `next`; not committed. */
static int random_txn(struct pst_store *s, uint64_t epoch, uint32_t *next,
		      uint64_t npages, unsigned nchanges, struct pst_txn **out)
{
	struct pst_txn *t;
	static uint8_t page[PG];
	int rc = pst_txn_begin(s, epoch, &t);
	if (rc)
		return rc;
	for (unsigned i = 0; i < nchanges; i++) {
		uint64_t p = rnd() % npages;
		unsigned what = rnd() % 8;
		if (what == 0) {
			rc = pst_txn_drop_page(t, p);
			next[p] = 0;
		} else if (what == 1) {
			memset(page, 0, PG);      /* zeros are stored as absent */
			rc = pst_txn_put_page(t, p, page);
			next[p] = 0;
		} else {
			next[p] = (uint32_t)(epoch * 1000 + i + 1);
			gen(p, next[p], page);
			rc = pst_txn_put_page(t, p, page);
		}
		if (rc) {
			pst_txn_abort(t);
			return rc;
		}
	}
	*out = t;
	return 0;
}

/* One commit applying a random change set to the model copy `next`; a
 * failed commit's txn is aborted. */
static int random_commit(struct pst_store *s, uint64_t epoch, uint32_t *next,
			 uint64_t npages, unsigned nchanges)
{
	struct pst_txn *t;
	int rc = random_txn(s, epoch, next, npages, nchanges, &t);
	if (rc == 0 && (rc = pst_txn_commit(t)) != 0)
		pst_txn_abort(t);
	return rc;
}

#define NP 700        /* two map levels */

TEST(format_open_empty)
{
	struct pst_store *s;
	char why[256];
	uint8_t buf[PG];
	bool present = true;
	disk_new(64);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), -ERR_NOENT);
	CHECK(strstr(why, "empty") != NULL);
	CHECK_EQ(pst_store_format(dev, 0, &s), -ERR_INVAL);
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	CHECK_EQ(pst_store_epoch(s), 0);
	CHECK_EQ(pst_store_arena_pages(s), NP);
	CHECK_EQ(pst_store_device_blocks(s), 64);
	CHECK_EQ(pst_store_free_blocks(s), 62);
	CHECK_EQ(pst_store_read_page(s, NP - 1, buf, &present), 0);
	CHECK(!present && buf[0] == 0 && buf[PG - 1] == 0);
	CHECK_EQ(pst_store_read_page(s, NP, buf, &present), -ERR_RANGE);
	pst_store_close(s);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK(why[0] == 0 && !pst_store_fell_back(s));
	CHECK_EQ(pst_store_epoch(s), 0);
	CHECK_EQ(pst_store_arena_pages(s), NP);
	size_t len = 99;
	CHECK_EQ(pst_store_get_meta(s, buf, sizeof buf, &len), 0);
	CHECK_EQ(len, 0);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* Many epochs of random changes, three map levels, checked after every
 * commit and after reopening. */
TEST(random_epochs)
{
	enum { N = 70000 };                /* 3 levels: > 256^2 pages */
	static uint32_t model[N];
	struct pst_store *s;
	char why[256];
	memset(model, 0, sizeof model);
	disk_new(1024);
	CHECK_EQ(pst_store_format(dev, N, &s), 0);
	/* Touch a few clusters so map blocks are shared and split. */
	uint64_t base[4] = { 0, 300, 65530, N - 40 };
	for (uint64_t e = 1; e <= 40; e++) {
		struct pst_txn *t;
		static uint8_t page[PG];
		CHECK_EQ(pst_txn_begin(s, e * 3, &t), 0);
		for (int i = 0; i < 25; i++) {
			uint64_t p = base[rnd() % 4] + rnd() % 40;
			if (rnd() % 6 == 0) {
				CHECK_EQ(pst_txn_drop_page(t, p), 0);
				model[p] = 0;
			} else {
				model[p] = (uint32_t)(e * 100 + i + 1);
				gen(p, model[p], page);
				CHECK_EQ(pst_txn_put_page(t, p, page), 0);
			}
		}
		CHECKF(pst_txn_commit(t) == 0, "commit %llu: %s",
		       (unsigned long long)e, pst_store_last_error(s));
		CHECK_EQ(pst_store_epoch(s), e * 3);
		for (int k = 0; k < 4; k++) {
			const char *m = verify_range(s, model, base[k], 40);
			CHECKF(m == NULL, "epoch %llu: %s", (unsigned long long)e, m);
		}
		if (e % 10 == 0) {
			pst_store_close(s);
			CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
			CHECK_EQ(pst_store_epoch(s), e * 3);
		}
	}
	const char *m = verify(s, model, N);
	CHECKF(m == NULL, "%.300s", m);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* ---- the documented format, read straight from the disk --------------- */
static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The newest superblock slot by the epoch field at offset 24. */
static int newest_slot(void)
{
	return le64(ram.data + 24) > le64(ram.data + PG + 24) ? 0 : 1;
}

/* Blocks on page pgno's path under slot's root: map blocks from the root,
 * then the data block (0 where absent). Returns the number of map levels. */
static unsigned path_of(int slot, uint64_t pgno, uint64_t *blocks)
{
	const uint8_t *sb = ram.data + (uint64_t)slot * PG;
	unsigned levels = (unsigned)(le64(sb + 20) & 0xffffffffu);
	uint64_t b = le64(sb + 56);
	for (unsigned l = 0; l < levels; l++) {
		blocks[l] = b;
		if (b == 0)
			continue;
		unsigned idx = (unsigned)(pgno >> (8 * (levels - 1 - l))) & 255;
		b = le64(ram.data + b * PG + 16 * idx);
	}
	blocks[levels] = b;
	return levels;
}

/* Formats NP pages on a disk of `blocks` and commits epochs 1 and 2 with
 * random changes: m1, m2 are the models; the store is closed after. */
static int two_epochs(uint64_t blocks, uint32_t *m1, uint32_t *m2)
{
	struct pst_store *s;
	disk_new(blocks);
	rng = 42;
	memset(m1, 0, NP * sizeof *m1);
	int rc = pst_store_format(dev, NP, &s);
	if (rc == 0)
		rc = random_commit(s, 1, m1, NP, 40);
	memcpy(m2, m1, NP * sizeof *m2);
	if (rc == 0)
		rc = random_commit(s, 2, m2, NP, 40);
	pst_store_close(s);
	return rc;
}

/* A page present in epoch 2 whose data block epoch 2 wrote. */
static uint64_t page_new_in_2(const uint32_t *m2)
{
	for (uint64_t p = 0; p < NP; p++)
		if (m2[p] / 1000 == 2)
			return p;
	return NP;
}

/* An arena of at most 256 pages: the root map block is the only level. */
TEST(one_level_map)
{
	static uint32_t model[200];
	struct pst_store *s;
	char why[256];
	memset(model, 0, sizeof model);
	disk_new(512);
	rng = 3;
	CHECK_EQ(pst_store_format(dev, 200, &s), 0);
	for (uint64_t e = 1; e <= 12; e++)
		CHECK_EQ(random_commit(s, e, model, 200, 30), 0);
	pst_store_close(s);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK_EQ(pst_store_epoch(s), 12);
	const char *m = verify(s, model, 200);
	CHECKF(m == NULL, "%.300s", m);
	pst_store_close(s);
	plat_blk_close(dev);
}

TEST(drop_and_reclaim)
{
	struct pst_store *s;
	struct pst_txn *t;
	uint8_t page[PG];
	char why[256];
	disk_new(64);
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	CHECK_EQ(pst_txn_begin(s, 1, &t), 0);
	for (uint64_t p = 0; p < 20; p++) {
		gen(p, 1, page);
		CHECK_EQ(pst_txn_put_page(t, p, page), 0);
	}
	CHECK_EQ(pst_txn_commit(t), 0);
	/* 20 data blocks, one leaf, one root. */
	CHECK_EQ(pst_store_free_blocks(s), 62 - 22);
	CHECK_EQ(pst_txn_begin(s, 2, &t), 0);
	for (uint64_t p = 0; p < 20; p++)
		CHECK_EQ(pst_txn_drop_page(t, p), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	bool present = true;
	CHECK_EQ(pst_store_read_page(s, 5, page, &present), 0);
	CHECK(!present && page[0] == 0 && page[9] == 0);
	/* Epoch 1 stays protected until the next commit lands. */
	CHECK_EQ(pst_store_free_blocks(s), 62 - 22);
	pst_store_close(s);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK_EQ(pst_store_free_blocks(s), 62 - 22);
	CHECK_EQ(pst_txn_begin(s, 3, &t), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	CHECK_EQ(pst_store_free_blocks(s), 62);
	pst_store_close(s);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK_EQ(pst_store_free_blocks(s), 62);
	CHECK_EQ(pst_store_epoch(s), 3);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* Rewriting the same pages on a device that holds barely three versions
 * of them never fills it; a txn too big for it fails cleanly. */
TEST(reclaim_small_device)
{
	struct pst_store *s;
	struct pst_txn *t;
	static uint32_t model[NP];
	uint8_t page[PG];
	char why[256];
	memset(model, 0, sizeof model);
	disk_new(48);   /* 46 usable; an epoch is 10 data + 4 map blocks */
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	for (uint64_t e = 1; e <= 300; e++) {
		CHECK_EQ(pst_txn_begin(s, e, &t), 0);
		for (uint64_t p = 0; p < 10; p++) {
			model[p * 70] = (uint32_t)e;
			gen(p * 70, (uint32_t)e, page);
			CHECKF(pst_txn_put_page(t, p * 70, page) == 0, "epoch %llu: %s",
			       (unsigned long long)e, pst_store_last_error(s));
		}
		CHECKF(pst_txn_commit(t) == 0, "epoch %llu: %s",
		       (unsigned long long)e, pst_store_last_error(s));
		if (e % 50 == 0) {
			pst_store_close(s);
			CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
		}
	}
	const char *m = verify(s, model, NP);
	CHECKF(m == NULL, "%.300s", m);
	CHECK_EQ(pst_txn_begin(s, 301, &t), 0);
	int rc = 0;
	for (uint64_t p = 100; p < 140 && rc == 0; p++) {
		gen(p, 9, page);
		rc = pst_txn_put_page(t, p, page);
	}
	CHECK_EQ(rc, -ERR_NOSPC);
	CHECK(strstr(pst_store_last_error(s), "store full") != NULL);
	pst_txn_abort(t);
	CHECK_EQ(pst_store_epoch(s), 300);
	m = verify(s, model, NP);
	CHECKF(m == NULL, "%.300s", m);
	CHECK_EQ(pst_txn_begin(s, 301, &t), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	pst_store_close(s);
	plat_blk_close(dev);
}

TEST(meta_round_trip)
{
	struct pst_store *s;
	struct pst_txn *t;
	char why[256], meta[PST_STORE_META_MAX + 1], got[PST_STORE_META_MAX];
	size_t len;
	for (size_t i = 0; i < sizeof meta; i++)
		meta[i] = (char)(i * 7 + 1);
	disk_new(64);
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	CHECK_EQ(pst_txn_begin(s, 1, &t), 0);
	CHECK_EQ(pst_txn_set_meta(t, meta, sizeof meta), -ERR_RANGE);
	CHECK_EQ(pst_txn_set_meta(t, meta, PST_STORE_META_MAX), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	CHECK_EQ(pst_store_get_meta(s, got, sizeof got, &len), 0);
	CHECK_EQ(len, PST_STORE_META_MAX);
	CHECK(memcmp(got, meta, len) == 0);
	CHECK_EQ(pst_store_get_meta(s, got, 10, &len), -ERR_RANGE);
	CHECK_EQ(len, PST_STORE_META_MAX);
	/* Inherited by an epoch that does not set it; replaced when set. */
	CHECK_EQ(pst_txn_begin(s, 2, &t), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	CHECK_EQ(pst_store_get_meta(s, got, sizeof got, &len), 0);
	CHECK(len == PST_STORE_META_MAX && memcmp(got, meta, len) == 0);
	CHECK_EQ(pst_txn_begin(s, 3, &t), 0);
	CHECK_EQ(pst_txn_set_meta(t, "node-7", 6), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	pst_store_close(s);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK_EQ(pst_store_get_meta(s, got, sizeof got, &len), 0);
	CHECK(len == 6 && memcmp(got, "node-7", 6) == 0);
	pst_store_close(s);
	plat_blk_close(dev);
}

TEST(epoch_rules)
{
	struct pst_store *s;
	struct pst_txn *t, *t2;
	uint8_t page[PG] = { 1 };
	disk_new(64);
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	CHECK_EQ(pst_txn_begin(s, 0, &t), -ERR_INVAL);
	CHECK_EQ(pst_txn_begin(s, 5, &t), 0);
	CHECK_EQ(pst_txn_begin(s, 6, &t2), -ERR_BUSY);
	CHECK_EQ(pst_txn_put_page(t, NP, page), -ERR_RANGE);
	CHECK_EQ(pst_txn_drop_page(t, NP + 5), -ERR_RANGE);
	CHECK_EQ(pst_txn_put_page(t, 3, page), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	CHECK_EQ(pst_store_epoch(s), 5);
	CHECK_EQ(pst_txn_begin(s, 5, &t), -ERR_INVAL);
	CHECK(strstr(pst_store_last_error(s), "epoch 5") != NULL);
	CHECK_EQ(pst_txn_begin(s, 4, &t), -ERR_INVAL);
	/* An aborted txn leaves nothing behind, its blocks freed. */
	uint64_t free0 = pst_store_free_blocks(s);
	CHECK_EQ(pst_txn_begin(s, 9, &t), 0);
	CHECK_EQ(pst_txn_put_page(t, 4, page), 0);
	CHECK_EQ(pst_store_free_blocks(s), free0 - 1);
	pst_txn_abort(t);
	CHECK_EQ(pst_store_free_blocks(s), free0);
	CHECK_EQ(pst_store_epoch(s), 5);
	bool present = true;
	CHECK_EQ(pst_store_read_page(s, 4, page, &present), 0);
	CHECK(!present);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* Power lost at every write and flush index of a commit, each with three
 * different choices of which unflushed writes survive: the store reopens at
 * the old or the new epoch with exactly that epoch's contents, the new one
 * whenever commit had returned 0, and takes the next commit. */
TEST(power_cut_every_io)
{
	static uint32_t m_old[NP], m_new[NP], m_next[NP];
	static uint8_t image[256 * PG];
	struct pst_store *s;
	char why[256];
	disk_new(256);
	rng = 7;
	memset(m_old, 0, sizeof m_old);
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	for (uint64_t e = 1; e <= 3; e++)
		CHECK_EQ(random_commit(s, e, m_old, NP, 40), 0);
	pst_store_close(s);
	CHECK_EQ(plat_blk_flush(dev), 0);
	memcpy(image, ram.data, sizeof image);
	int olds = 0, news = 0;
	bool done = false;
	for (uint64_t n = 0; !done; n++) {
		CHECKF(n < 1000, "commit never completed");
		for (uint64_t seed = 0; seed < 3; seed++) {
			memcpy(ram.data, image, sizeof image);
			rewrap();
			CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
			memcpy(m_new, m_old, sizeof m_new);
			rng = 1234;
			blkfault_cut_at(bf, n);
			int rc = random_commit(s, 10, m_new, NP, 30);
			struct blkfault_stats st;
			blkfault_stats(bf, &st);
			pst_store_close(s);
			if (!st.dead) {
				CHECK_EQ(rc, 0);
				done = true;
			} else {
				CHECK(rc != 0);
			}
			CHECK_EQ(blkfault_power_cut(bf, seed * 7919 + n), 0);
			rewrap();
			CHECKF(pst_store_open(dev, &s, why, sizeof why) == 0,
			       "cut at %llu seed %llu: %s", (unsigned long long)n,
			       (unsigned long long)seed, why);
			uint64_t e = pst_store_epoch(s);
			CHECKF(e == 3 || e == 10, "epoch %llu", (unsigned long long)e);
			/* Data and map blocks are flushed before the superblock,
			 * so a valid newest superblock's map always verifies. */
			CHECKF(strstr(why, "fell back from") == NULL, "cut at %llu: "
			       "%.300s", (unsigned long long)n, why);
			CHECKF(rc != 0 || e == 10, "committed epoch lost (cut %llu)",
			       (unsigned long long)n);
			const char *m = verify(s, e == 10 ? m_new : m_old, NP);
			CHECKF(m == NULL, "cut at %llu seed %llu epoch %llu: %s",
			       (unsigned long long)n, (unsigned long long)seed,
			       (unsigned long long)e, m);
			olds += e == 3;
			news += e == 10;
			memcpy(m_next, e == 10 ? m_new : m_old, sizeof m_next);
			CHECKF(random_commit(s, 11, m_next, NP, 30) == 0, "after cut "
			       "%llu: %s", (unsigned long long)n, pst_store_last_error(s));
			m = verify(s, m_next, NP);
			CHECKF(m == NULL, "next epoch after cut %llu: %s",
			       (unsigned long long)n, m);
			pst_store_close(s);
		}
	}
	CHECK(olds > 0 && news > 0);
	plat_blk_close(dev);
}

TEST(flipped_data_block)
{
	static uint32_t m1[NP], m2[NP];
	struct pst_store *s;
	char why[256], want[64];
	uint8_t buf[PG];
	uint64_t path[8];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	uint64_t p = page_new_in_2(m2);
	CHECK(p < NP);
	unsigned levels = path_of(newest_slot(), p, path);
	uint64_t db = path[levels];
	CHECK(db >= 2);
	CHECK_EQ(blkfault_flip_stored(bf, db * PG + 1000, 3), 0);
	/* Open does not read data, so it succeeds; the page read fails. */
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK(!pst_store_fell_back(s));
	CHECK_EQ(pst_store_epoch(s), 2);
	memset(buf, 0x55, PG);
	bool present = true;
	CHECK_EQ(pst_store_read_page(s, p, buf, &present), -ERR_CORRUPT);
	CHECK(!present && buf[0] == 0 && buf[1000] == 0 && buf[PG - 1] == 0);
	snprintf(want, sizeof want, "data block %llu (page %llu)",
		 (unsigned long long)db, (unsigned long long)p);
	CHECKF(strstr(pst_store_last_error(s), want) != NULL, "%s",
	       pst_store_last_error(s));
	/* The map still gives the hash the page was committed with: the data
	 * block is not read for it. */
	uint64_t h = 0;
	gen(p, m2[p], buf);
	CHECK_EQ(pst_store_page_hash_at(s, p, &h), 0);
	CHECK_EQ(h, pst_store_page_hash(buf));
	/* Every other page still reads right. */
	m2[p] = 0;
	for (uint64_t q = 0; q < NP; q++) {
		if (q == p)
			continue;
		const char *m = verify_range(s, m2, q, 1);
		CHECKF(m == NULL, "%.300s", m);
	}
	pst_store_close(s);
	/* A flip on the way (not in storage) is caught the same way. */
	CHECK_EQ(blkfault_flip_stored(bf, db * PG + 1000, 3), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK_EQ(pst_store_read_page(s, p, buf, &present), 0);
	CHECK(present);
	CHECK_EQ(blkfault_flip_read(bf, db * PG + 7, 0), 0);
	CHECK_EQ(pst_store_read_page(s, p, buf, &present), -ERR_CORRUPT);
	blkfault_clear(bf);
	CHECK_EQ(pst_store_read_page(s, p, buf, &present), 0);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* A valid data block of the same store found where another page's block
 * should be (a misdirected write) fails that page's check; the other page
 * still reads. */
TEST(misdirected_data_block)
{
	static uint32_t m1[NP], m2[NP];
	struct pst_store *s;
	char why[256];
	uint8_t buf[PG];
	uint64_t pa[8], pb[8];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	uint64_t p = page_new_in_2(m2), q = NP;
	for (uint64_t r = 0; r < NP && q == NP; r++)
		if (r != p && m2[r] != 0)
			q = r;
	CHECK(p < NP && q < NP);
	unsigned la = path_of(newest_slot(), p, pa);
	unsigned lb = path_of(newest_slot(), q, pb);
	CHECK(pa[la] >= 2 && pb[lb] >= 2 && pa[la] != pb[lb]);
	memcpy(ram.data + pa[la] * PG, ram.data + pb[lb] * PG, PG);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	bool present;
	CHECK_EQ(pst_store_read_page(s, p, buf, &present), -ERR_CORRUPT);
	CHECK_EQ(pst_store_read_page(s, q, buf, &present), 0);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* The store's page hash is the delta's base hash (one hashing serves
 * both), and put/read hand it out for stored and for zero pages. */
TEST(page_hash_is_the_delta_base_hash)
{
	static uint8_t page[PG];
	uint8_t bh[PST_DELTA_BHASH_LEN], le[8];
	memset(page, 0, PG);
	CHECK_EQ(pst_store_page_hash(page), PST_STORE_ZERO_HASH);
	for (uint32_t v = 0; v < 40; v++) {
		gen(v, v, page);
		pst_delta_base_hash(page, bh);
		uint64_t h = pst_store_page_hash(page);
		for (int i = 0; i < 8; i++)
			le[i] = (uint8_t)(h >> (8 * i));
		CHECK(memcmp(bh, le, 8) == 0);
	}
	struct pst_store *s;
	struct pst_txn *t;
	disk_new(256);
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	CHECK_EQ(pst_txn_begin(s, 1, &t), 0);
	gen(5, 1, page);
	uint64_t h5 = pst_store_page_hash(page), h;
	CHECK_EQ(pst_txn_put_page_hashed(t, 5, page, h5), 0);
	memset(page, 0, PG);
	CHECK_EQ(pst_txn_put_page_hashed(t, 6, page, PST_STORE_ZERO_HASH), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	bool present;
	CHECK_EQ(pst_store_read_page_hashed(s, 5, page, &present, &h), 0);
	CHECK(present && h == h5 && h == pst_store_page_hash(page));
	CHECK_EQ(pst_store_read_page_hashed(s, 6, page, &present, &h), 0);
	CHECK(!present && h == PST_STORE_ZERO_HASH);     /* zeros: absent */
	CHECK_EQ(pst_store_read_page_hashed(s, 7, page, &present, NULL), -ERR_INVAL);
	/* The committed hash from the map alone. */
	h = 0;
	CHECK_EQ(pst_store_page_hash_at(s, 5, &h), 0);
	CHECK_EQ(h, h5);
	CHECK_EQ(pst_store_page_hash_at(s, 6, &h), 0);
	CHECK_EQ(h, PST_STORE_ZERO_HASH);
	CHECK_EQ(pst_store_page_hash_at(s, NP, &h), -ERR_RANGE);
	pst_store_close(s);
	plat_blk_close(dev);
}

TEST(flipped_map_block_falls_back)
{
	static uint32_t m1[NP], m2[NP], m3[NP];
	struct pst_store *s;
	char why[512], want[64];
	uint64_t path[8];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	uint64_t p = page_new_in_2(m2);
	unsigned levels = path_of(newest_slot(), p, path);
	uint64_t leaf = path[levels - 1];
	CHECK(leaf >= 2);
	CHECK_EQ(blkfault_flip_stored(bf, leaf * PG + 16 * 3 + 2, 5), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK(pst_store_fell_back(s));
	CHECK_EQ(pst_store_epoch(s), 1);
	snprintf(want, sizeof want, "map block %llu", (unsigned long long)leaf);
	CHECKF(strstr(why, "fell back from epoch 2 to epoch 1") && strstr(why, want),
	       "%.300s", why);
	CHECK(strcmp(why, pst_store_notice(s)) == 0);
	const char *m = verify(s, m1, NP);
	CHECKF(m == NULL, "%.300s", m);
	/* The store goes on from epoch 1; the damaged epoch never returns. */
	memcpy(m3, m1, sizeof m3);
	CHECK_EQ(random_commit(s, 3, m3, NP, 30), 0);
	pst_store_close(s);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK(!pst_store_fell_back(s));
	CHECK_EQ(pst_store_epoch(s), 3);
	m = verify(s, m3, NP);
	CHECKF(m == NULL, "%.300s", m);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* A transient read error on the newest superblock makes open fall back;
 * the next commit reuses the blocks of the epoch it skipped, so that slot
 * must be wiped first: a power cut at every I/O of that commit must never
 * bring back the skipped epoch with blocks overwritten. */
TEST(power_cut_after_fallback)
{
	static uint32_t m1[NP], m2[NP], m5[NP];
	static uint8_t image[256 * PG];
	struct pst_store *s;
	char why[512];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	int nw = newest_slot();
	memcpy(image, ram.data, sizeof image);
	bool done = false;
	int seen[3] = { 0, 0, 0 };
	for (uint64_t n = 0; !done; n++) {
		CHECKF(n < 1000, "commit never completed");
		for (uint64_t seed = 0; seed < 3; seed++) {
			memcpy(ram.data, image, sizeof image);
			rewrap();
			CHECK_EQ(blkfault_flip_read(bf, (uint64_t)nw * PG + 100, 1), 0);
			CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
			CHECK(pst_store_fell_back(s) && pst_store_epoch(s) == 1);
			blkfault_clear(bf);
			memcpy(m5, m1, sizeof m5);
			rng = 555;
			blkfault_cut_at(bf, n);
			int rc = random_commit(s, 5, m5, NP, 40);
			struct blkfault_stats st;
			blkfault_stats(bf, &st);
			pst_store_close(s);
			if (!st.dead) {
				CHECK_EQ(rc, 0);
				done = true;
			}
			CHECK_EQ(blkfault_power_cut(bf, seed * 31 + n), 0);
			rewrap();
			CHECKF(pst_store_open(dev, &s, why, sizeof why) == 0,
			       "cut at %llu: %.300s", (unsigned long long)n, why);
			uint64_t e = pst_store_epoch(s);
			CHECKF(e == 1 || e == 2 || e == 5, "epoch %llu",
			       (unsigned long long)e);
			CHECK(rc != 0 || e == 5);
			const char *m = verify(s, e == 1 ? m1 : e == 2 ? m2 : m5, NP);
			CHECKF(m == NULL, "cut at %llu, epoch %llu: %.300s",
			       (unsigned long long)n, (unsigned long long)e, m);
			seen[e == 1 ? 0 : e == 2 ? 1 : 2]++;
			pst_store_close(s);
		}
	}
	CHECK(seen[0] > 0 && seen[2] > 0);
	plat_blk_close(dev);
}

/* Blocks released by commit E are not reused by commit E+1: epoch E-1
 * must survive an interrupted commit E+1 as the fallback of a damaged E. */
TEST(fallback_after_interrupted_commit)
{
	static uint32_t m1[NP], m2[NP], m3[NP], m4[NP];
	struct pst_store *s;
	char why[512];
	uint64_t path[8];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	memcpy(m3, m2, sizeof m3);
	CHECK_EQ(random_commit(s, 3, m3, NP, 60), 0);
	memcpy(m4, m3, sizeof m4);
	blkfault_fail_flush(bf, 0);
	CHECK_EQ(random_commit(s, 4, m4, NP, 60), -ERR_IO);
	pst_store_close(s);
	rewrap();                   /* the failed commit's writes land */
	uint64_t p = NP;
	for (uint64_t q = 0; q < NP && p == NP; q++)
		if (m3[q] / 1000 == 3)
			p = q;
	CHECK(p < NP);
	unsigned levels = path_of(newest_slot(), p, path);
	CHECK_EQ(blkfault_flip_stored(bf, path[levels - 1] * PG + 9, 2), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK(pst_store_fell_back(s));
	CHECK_EQ(pst_store_epoch(s), 2);
	const char *m = verify(s, m2, NP);
	CHECKF(m == NULL, "%.300s", m);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* Damage with no safe fallback: an error naming it, never a store. */
TEST(damage_without_fallback)
{
	static uint32_t m1[NP], m2[NP];
	struct pst_store *s = NULL;
	char why[512], want[64];
	uint64_t path[8];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	int nw = newest_slot();
	uint64_t p = page_new_in_2(m2);
	unsigned levels = path_of(nw, p, path);
	uint64_t leaf = path[levels - 1];
	CHECK_EQ(blkfault_flip_stored(bf, leaf * PG + 40, 1), 0);
	CHECK_EQ(blkfault_flip_stored(bf, (uint64_t)(nw ^ 1) * PG + 30, 1), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), -ERR_CORRUPT);
	snprintf(want, sizeof want, "map block %llu", (unsigned long long)leaf);
	CHECKF(strstr(why, want) != NULL, "%.300s", why);
	/* Both superblocks damaged. */
	CHECK_EQ(blkfault_flip_stored(bf, leaf * PG + 40, 1), 0);
	CHECK_EQ(blkfault_flip_stored(bf, (uint64_t)nw * PG + 3000, 6), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), -ERR_CORRUPT);
	CHECKF(strstr(why, "superblock 0") && strstr(why, "superblock 1") &&
	       strstr(why, "checksum"), "%.300s", why);
	plat_blk_close(dev);
}

TEST(flipped_superblock_falls_back)
{
	static uint32_t m1[NP], m2[NP];
	struct pst_store *s;
	char why[512], want[64];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	int nw = newest_slot();
	CHECK_EQ(blkfault_flip_stored(bf, (uint64_t)nw * PG + 56, 0), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK(pst_store_fell_back(s));
	CHECK_EQ(pst_store_epoch(s), 1);
	snprintf(want, sizeof want, "superblock %d", nw);
	CHECKF(strstr(why, want) && strstr(why, "checksum"), "%.300s", why);
	const char *m = verify(s, m1, NP);
	CHECKF(m == NULL, "%.300s", m);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* A valid superblock of another format version is refused, not skipped. */
TEST(version_mismatch)
{
	static uint32_t m1[NP], m2[NP];
	struct pst_store *s;
	char why[512];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	uint8_t *sb = ram.data + (uint64_t)newest_slot() * PG;
	sb[8] = 2;   /* version 2: page hashes were BLAKE2b */
	crypto_generichash(sb + 4064, 32, sb, 4064, NULL, 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), -ERR_VERSION);
	CHECKF(strstr(why, "format version 2"), "%.300s", why);
	plat_blk_close(dev);
}

TEST(truncated_device)
{
	static uint32_t m1[NP], m2[NP];
	struct pst_store *s;
	char why[512];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	CHECK_EQ(blkfault_truncate(bf, 100 * PG), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), -ERR_CORRUPT);
	CHECKF(strstr(why, "truncated") && strstr(why, "256 blocks"), "%.300s", why);
	CHECK_EQ(blkfault_truncate(bf, 3 * PG), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), -ERR_CORRUPT);
	CHECKF(strstr(why, "truncated or too small"), "%.300s", why);
	plat_blk_close(dev);
}

/* A failed flush (of the data, or of the superblock) or a failed write at
 * any index: commit fails, the store stays at the old epoch in memory and
 * on disk, and the next commit works. */
TEST(failed_io_keeps_old_epoch)
{
	static uint32_t m1[NP], m2[NP], mx[NP];
	struct pst_store *s;
	char why[512];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	for (int which = 0; which < 2; which++) {
		CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
		memcpy(mx, m2, sizeof mx);
		blkfault_fail_flush(bf, (uint64_t)which);
		CHECK_EQ(random_commit(s, 5, mx, NP, 20), -ERR_IO);
		CHECKF(strstr(pst_store_last_error(s), "flush"), "%s",
		       pst_store_last_error(s));
		CHECK_EQ(pst_store_epoch(s), 2);
		const char *m = verify(s, m2, NP);
		CHECKF(m == NULL, "%.300s", m);
		pst_store_close(s);
		rewrap();
		CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
		CHECK_EQ(pst_store_epoch(s), 2);
		m = verify(s, m2, NP);
		CHECKF(m == NULL, "%.300s", m);
		pst_store_close(s);
	}
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	uint64_t epoch = 2;
	memcpy(mx, m2, sizeof mx);
	for (uint64_t k = 0;; k++) {
		CHECKF(k < 200, "commit never succeeded");
		static uint32_t try[NP];
		memcpy(try, mx, sizeof try);
		blkfault_clear(bf);
		blkfault_fail_write(bf, k);
		int rc = random_commit(s, epoch + 1, try, NP, 20);
		if (rc == 0) {
			epoch++;
			memcpy(mx, try, sizeof mx);
			break;
		}
		CHECK_EQ(rc, -ERR_IO);
		CHECK_EQ(pst_store_epoch(s), epoch);
		const char *m = verify(s, mx, NP);
		CHECKF(m == NULL, "write %llu failed: %s", (unsigned long long)k, m);
	}
	blkfault_clear(bf);
	pst_store_close(s);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	CHECK_EQ(pst_store_epoch(s), epoch);
	const char *m = verify(s, mx, NP);
	CHECKF(m == NULL, "%.300s", m);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* *s must be at `epoch` holding the model, and so must the store that
 * closing it and opening the disk again through a fresh fault device gives
 * (without falling back); a message otherwise (*s is then NULL or open). */
static const char *reopen_verified(struct pst_store **s, uint64_t epoch,
				   const uint32_t *model)
{
	static char msg[600];
	char why[512];
	const char *m0 = pst_store_epoch(*s) == epoch ? verify(*s, model, NP)
						      : "not at the epoch";
	if (m0 != NULL) {
		snprintf(msg, sizeof msg, "before the reopen: %.500s", m0);
		return msg;
	}
	pst_store_close(*s);
	*s = NULL;
	rewrap();
	if (pst_store_open(dev, s, why, sizeof why) != 0 || pst_store_fell_back(*s)) {
		snprintf(msg, sizeof msg, "reopen: %.500s", why);
		return msg;
	}
	if (pst_store_epoch(*s) != epoch) {
		snprintf(msg, sizeof msg, "reopened at epoch %llu, not %llu",
			 (unsigned long long)pst_store_epoch(*s),
			 (unsigned long long)epoch);
		return msg;
	}
	const char *m = verify(*s, model, NP);
	if (m != NULL)
		snprintf(msg, sizeof msg, "reopened: %.500s", m);
	return m ? msg : NULL;
}

/* A commit that failed (any one write or flush of it) is kept and commits
 * when tried again: the store is at the old epoch in between, at the new one
 * after, with its block count exact (the reopen walk agrees) and without
 * falling back. */
TEST(failed_commit_commits_when_retried)
{
	static uint32_t m1[NP], m2[NP], mx[NP];
	struct pst_store *s;
	struct pst_txn *t;
	char why[512];
	unsigned failures = 0;
	for (unsigned k = 0; k < 24; k++) {
		CHECK_EQ(two_epochs(256, m1, m2), 0);
		CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
		memcpy(mx, m2, sizeof mx);
		rng = 99;
		CHECK_EQ(random_txn(s, 3, mx, NP, 40, &t), 0);
		if (k % 2)
			blkfault_fail_flush(bf, k / 2);
		else
			blkfault_fail_write(bf, k / 2);
		int rc = pst_txn_commit(t);
		blkfault_clear(bf);
		if (rc == 0) {           /* k past the commit's last I/O */
			pst_store_close(s);
			continue;
		}
		failures++;
		CHECK_EQ(rc, -ERR_IO);
		CHECK(!pst_txn_lost(t));
		CHECK_EQ(pst_store_epoch(s), 2);
		const char *m = verify(s, m2, NP);
		CHECKF(m == NULL, "fault %u, before the retry: %.300s", k, m);
		rc = pst_txn_commit(t);
		CHECKF(rc == 0, "fault %u: retry: %d: %.300s", k, rc,
		       pst_store_last_error(s));
		uint64_t free_blocks = pst_store_free_blocks(s);
		m = reopen_verified(&s, 3, mx);
		CHECKF(m == NULL, "fault %u: %s", k, m);
		CHECK_EQ(pst_store_free_blocks(s), free_blocks);
		pst_store_close(s);
	}
	CHECK(failures >= 8);
	plat_blk_close(dev);
}

/* Epochs 1 and 2 (model m2), then a seeded epoch-3 txn (model mx) whose
 * commit loses the power at its k-th write or flush. 1: that left the
 * superblock slot unsure, the store open in *s at epoch 2 with the txn in
 * *t; 0: it did not (an earlier I/O failed, handled by other tests, or the
 * commit was done before the k-th; *past says which), the store closed.
 * free_before: the store's free blocks before the txn. */
static uint64_t free_before;
static int commit_cut_at(unsigned k, uint64_t seed, uint32_t *m2, uint32_t *mx,
			 struct pst_store **s, struct pst_txn **t, bool *past)
{
	static uint32_t m1[NP];
	char why[512];
	*past = false;
	if (two_epochs(256, m1, m2) != 0 ||
	    pst_store_open(dev, s, why, sizeof why) != 0)
		return -1;
	memcpy(mx, m2, NP * sizeof *mx);
	rng = seed;
	free_before = pst_store_free_blocks(*s);
	if (random_txn(*s, 3, mx, NP, 40, t) != 0)
		return -1;
	blkfault_cut_at(bf, k);
	int rc = pst_txn_commit(*t);
	if (rc < 0 && strstr(pst_store_last_error(*s), "restores it first"))
		return 1;
	if (rc < 0)
		pst_txn_abort(*t);
	*past = rc == 0;
	pst_store_close(*s);
	return 0;
}

/* Power goes at the k-th write or flush of a commit and stays off: every
 * later I/O fails too, so when k is the superblock's write or its flush,
 * putting the slot's old bytes back fails as well, and the slot may hold
 * the new superblock (a write taken before the flush can still land when
 * the power comes back). Then:
 *  - commits fail while the power is off, each saying the slot comes first;
 *  - power back (the pending writes land, tear or vanish, by seed), the
 *    same txn commits, with (`more`) or without 40 pages put after the
 *    failure: the slot goes back first, then the commit;
 *  - the free-block count is exact (the reopen walk agrees), and the store
 *    reopens at epoch 3 without falling back. */
TEST(unrestored_superblock_is_restored_by_the_next_commit)
{
	static uint32_t m2[NP], mx[NP];
	static uint8_t page[PG];
	struct pst_store *s;
	struct pst_txn *t;
	unsigned unsure = 0;
	for (unsigned i = 0; i < 128; i++) {
		unsigned k = i / 2;
		bool more = i % 2, past;
		int rc = commit_cut_at(k, 7, m2, mx, &s, &t, &past);
		CHECK(rc >= 0);
		if (rc <= 0) {
			if (past && more)
				break;
			continue;
		}
		unsure++;
		CHECK_EQ(pst_store_epoch(s), 2);
		for (int again = 0; again < 2; again++) {
			CHECK_EQ(pst_txn_commit(t), -ERR_IO);
			CHECKF(strstr(pst_store_last_error(s), "may still hold a "
				      "failed commit"), "%.300s",
			       pst_store_last_error(s));
		}
		CHECK_EQ(blkfault_power_cut(bf, k), 0);
		for (uint64_t p = 100; more && p < 140; p++) {
			mx[p] = 7000 + (uint32_t)p;
			gen(p, mx[p], page);
			CHECK_EQ(pst_txn_put_page(t, p, page), 0);
		}
		rc = pst_txn_commit(t);
		CHECKF(rc == 0, "cut %u: commit after the power came back: %.300s",
		       k, pst_store_last_error(s));
		CHECK_EQ(pst_store_epoch(s), 3);
		uint64_t free_blocks = pst_store_free_blocks(s);
		const char *m = reopen_verified(&s, 3, mx);
		CHECKF(m == NULL, "cut %u: %s", k, m);
		CHECK_EQ(pst_store_free_blocks(s), free_blocks);
		pst_store_close(s);
	}
	CHECKF(unsure == 4, "%u cuts left the slot unsure (the superblock's "
	       "write and flush, with and without more puts)", unsure);
	plat_blk_close(dev);
}

/* The same failure, power back, then the txn changes on: every page it
 * had changed and 40 more are put again or dropped, and the retry itself
 * fails once more (each write or flush in turn) after the slot is back.
 * The commit after that lands with the model, and the free-block count
 * matches a reopen's walk. */
TEST(puts_and_a_second_failure_after_an_unsure_slot)
{
	static uint32_t m2[NP], mx[NP];
	static uint8_t page[PG];
	struct pst_store *s;
	struct pst_txn *t;
	unsigned unsure = 0, second = 0;
	for (unsigned k = 0; k < 64; k++) {
		for (unsigned j = 0; j < 40; j++) {
			bool past;
			int rc = commit_cut_at(k, 7, m2, mx, &s, &t, &past);
			CHECK(rc >= 0);
			if (rc <= 0) {
				if (past)
					k = 64;         /* past the commit */
				break;
			}
			unsure++;
			CHECK_EQ(blkfault_power_cut(bf, k), 0);
			for (uint64_t p = 0; p < NP; p++) {
				if (mx[p] == m2[p] && !(p >= 100 && p < 140))
					continue;
				if (p % 5 == 0) {
					mx[p] = 0;
					CHECK_EQ(pst_txn_drop_page(t, p), 0);
					continue;
				}
				mx[p] = 8000 + (uint32_t)p;
				gen(p, mx[p], page);
				CHECK_EQ(pst_txn_put_page(t, p, page), 0);
			}
			if (j % 2)
				blkfault_fail_write(bf, j / 2);
			else
				blkfault_fail_flush(bf, j / 2);
			rc = pst_txn_commit(t);
			blkfault_clear(bf);
			if (rc < 0) {
				second++;
				CHECK(!pst_txn_lost(t));
				rc = pst_txn_commit(t);
			}
			CHECKF(rc == 0, "cut %u fault %u: %.300s", k, j,
			       pst_store_last_error(s));
			uint64_t free_blocks = pst_store_free_blocks(s);
			const char *m = reopen_verified(&s, 3, mx);
			CHECKF(m == NULL, "cut %u fault %u: %s", k, j, m);
			CHECK_EQ(pst_store_free_blocks(s), free_blocks);
			pst_store_close(s);
		}
	}
	CHECK_EQ(unsure, 80);          /* 2 cuts, 40 faults each */
	CHECK(second > 20);
	plat_blk_close(dev);
}

/* The same failure, then no retry: the txn is aborted while the slot may
 * still point at its blocks. They stay allocated (a later txn must not
 * overwrite what that superblock reaches); the next txn_begin puts the
 * slot back, once the power is back. A crash (the power cut, then an
 * open) at the unsure point opens at epoch 2 or 3, either whole. */
TEST(aborted_txn_keeps_its_blocks_while_the_slot_is_unsure)
{
	static uint32_t m2[NP], mx[NP], my[NP];
	struct pst_store *s;
	struct pst_txn *t;
	char why[512];
	unsigned unsure = 0, opened_at_3 = 0;
	for (unsigned k = 0; k < 64; k++) {
		for (uint64_t seed = 0; seed < 8; seed++) {
			bool past;
			int rc = commit_cut_at(k, 11 + seed, m2, mx, &s, &t, &past);
			CHECK(rc >= 0);
			if (rc <= 0) {
				if (past)
					k = 64;             /* past the commit */
				continue;
			}
			unsure++;
			uint64_t held = pst_store_free_blocks(s);
			CHECK(held < free_before);
			pst_txn_abort(t);
			CHECK_EQ(pst_store_free_blocks(s), held);   /* kept */
			if (seed % 2 == 0) {
				/* Power back, no crash: begin restores first. */
				CHECK_EQ(pst_txn_begin(s, 3, &t), -ERR_IO);
				CHECK_EQ(blkfault_power_cut(bf, seed), 0);
				memcpy(my, m2, sizeof my);
				rng = 500 + seed;
				CHECK_EQ(random_commit(s, 3, my, NP, 60), 0);
				const char *m = reopen_verified(&s, 3, my);
				CHECKF(m == NULL, "cut %u seed %llu: %s", k,
				       (unsigned long long)seed, m);
			} else {
				/* Crash at the unsure point. */
				pst_store_close(s);
				CHECK_EQ(blkfault_power_cut(bf, seed), 0);
				rewrap();
				CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
				uint64_t e = pst_store_epoch(s);
				CHECKF(e == 2 || e == 3, "opened at epoch %llu",
				       (unsigned long long)e);
				opened_at_3 += e == 3;
				const char *m = verify(s, e == 3 ? mx : m2, NP);
				CHECKF(m == NULL, "cut %u seed %llu, epoch %llu: %.300s",
				       k, (unsigned long long)seed,
				       (unsigned long long)e, m);
				memcpy(my, e == 3 ? mx : m2, sizeof my);
				rng = 900 + seed;
				CHECK_EQ(random_commit(s, e + 1, my, NP, 60), 0);
				m = reopen_verified(&s, e + 1, my);
				CHECKF(m == NULL, "cut %u seed %llu: %s", k,
				       (unsigned long long)seed, m);
			}
			if (s != NULL)
				pst_store_close(s);
		}
	}
	CHECK(unsure == 16);           /* 2 cuts (the superblock's write and
					* flush), 8 seeds each */
	CHECKF(opened_at_3 > 0, "no crash found the new superblock landed");
	fprintf(stderr, "  %u of 8 crashes opened at the new epoch\n", opened_at_3);
	plat_blk_close(dev);
}

/* Pages put after a failed commit join the txn, and the later put of a
 * page wins over the earlier one, as before the failure. */
TEST(puts_after_a_failed_commit)
{
	static uint32_t m1[NP], m2[NP], mx[NP];
	static uint8_t page[PG];
	struct pst_store *s;
	struct pst_txn *t;
	char why[512];
	CHECK_EQ(two_epochs(256, m1, m2), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	memcpy(mx, m2, sizeof mx);
	CHECK_EQ(pst_txn_begin(s, 3, &t), 0);
	for (uint64_t p = 0; p < 40; p++) {
		mx[p] = 3000 + (uint32_t)p;
		gen(p, mx[p], page);
		CHECK_EQ(pst_txn_put_page(t, p, page), 0);
	}
	for (uint64_t p = 0; p < 20; p++) {       /* superseded before */
		mx[p] = 3500 + (uint32_t)p;
		gen(p, mx[p], page);
		CHECK_EQ(pst_txn_put_page(t, p, page), 0);
	}
	blkfault_fail_flush(bf, 0);
	CHECK_EQ(pst_txn_commit(t), -ERR_IO);
	for (uint64_t p = 0; p < 60; p += 3) {
		mx[p] = 4000 + (uint32_t)p;
		gen(p, mx[p], page);
		CHECK_EQ(pst_txn_put_page(t, p, page), 0);
	}
	CHECK_EQ(pst_txn_drop_page(t, 1), 0);
	mx[1] = 0;
	CHECK_EQ(pst_txn_commit(t), 0);
	const char *m = reopen_verified(&s, 3, mx);
	CHECKF(m == NULL, "%s", m);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* A failed flush, then the device loses (or tears) writes it had taken:
 * the retried commit reads each data block back and refuses, naming the
 * block, when one no longer holds its page; never commits garbage. The
 * store stays at the old epoch and the next txn commits. */
TEST(retried_commit_refuses_lost_blocks)
{
	static uint32_t m1[NP], m2[NP], mx[NP], my[NP];
	struct pst_store *s;
	struct pst_txn *t;
	char why[512];
	unsigned refused = 0, committed = 0;
	for (uint64_t seed = 0; seed < 16; seed++) {
		CHECK_EQ(two_epochs(256, m1, m2), 0);
		CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
		memcpy(mx, m2, sizeof mx);
		rng = 5 + seed;
		CHECK_EQ(random_txn(s, 3, mx, NP, 40, &t), 0);
		blkfault_fail_flush(bf, 0);
		CHECK_EQ(pst_txn_commit(t), -ERR_IO);
		CHECK_EQ(blkfault_power_cut(bf, seed), 0);
		int rc = pst_txn_commit(t);
		const char *m;
		if (rc == 0) {
			committed++;
			CHECK_EQ(pst_store_epoch(s), 3);
			m = verify(s, mx, NP);
			CHECKF(m == NULL, "seed %llu: %.300s",
			       (unsigned long long)seed, m);
			pst_store_close(s);
			continue;
		}
		refused++;
		CHECK_EQ(rc, -ERR_IO);
		CHECKF(strstr(pst_store_last_error(s), "no longer holds page"),
		       "seed %llu: %.300s", (unsigned long long)seed,
		       pst_store_last_error(s));
		CHECK(pst_txn_lost(t));
		CHECK_EQ(pst_txn_commit(t), -ERR_IO);        /* still refused */
		CHECK_EQ(pst_store_epoch(s), 2);
		pst_txn_abort(t);
		m = verify(s, m2, NP);
		CHECKF(m == NULL, "seed %llu: %.300s", (unsigned long long)seed, m);
		memcpy(my, m2, sizeof my);
		CHECK_EQ(random_commit(s, 3, my, NP, 40), 0);
		m = reopen_verified(&s, 3, my);
		CHECKF(m == NULL, "seed %llu: %s", (unsigned long long)seed, m);
		pst_store_close(s);
	}
	CHECK(refused > 0);
	plat_blk_close(dev);
	(void)committed;
}

/* A put whose write fails and is retried (as the image's sink does) must
 * not leave its first block counted: each of the two gathered writes of 32
 * blocks that puts make in the first epoch fails once in turn, the put is
 * retried, two epochs commit, and the store reopens at the second without
 * falling back. */
TEST(failed_put_retried_keeps_the_count)
{
	static uint32_t ver[NP];
	static uint8_t page[PG];
	char why[512];
	for (uint64_t k = 0; k < 2; k++) {
		disk_new(2048);
		struct pst_store *s;
		struct pst_txn *t;
		CHECK_EQ(pst_store_format(dev, NP, &s), 0);
		memset(ver, 0, sizeof ver);
		unsigned failed = 0;
		for (uint64_t epoch = 1; epoch <= 2; epoch++) {
			CHECK_EQ(pst_txn_begin(s, epoch, &t), 0);
			if (epoch == 1)
				blkfault_fail_write(bf, k);
			for (uint64_t p = 0; p < 80; p++) {
				uint64_t pg = (p * 7 + epoch) % NP;
				ver[pg] = (uint32_t)(epoch * 1000 + p + 1);
				gen(pg, ver[pg], page);
				int rc = pst_txn_put_page(t, pg, page);
				if (rc == -ERR_IO) {
					failed++;
					rc = pst_txn_put_page(t, pg, page);
				}
				CHECK_EQ(rc, 0);
			}
			int rc = pst_txn_commit(t);
			CHECKF(rc == 0, "write %llu: commit of epoch %llu: %d: %.200s",
			       (unsigned long long)k, (unsigned long long)epoch, rc,
			       pst_store_last_error(s));
		}
		CHECKF(failed == 1, "write %llu: %u puts failed", (unsigned long long)k, failed);
		pst_store_close(s);
		rewrap();
		CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
		CHECKF(!pst_store_fell_back(s), "write %llu: fell back: %.200s",
		       (unsigned long long)k, why);
		CHECK_EQ(pst_store_epoch(s), 2);
		const char *m = verify(s, ver, NP);
		CHECKF(m == NULL, "%.300s", m);
		pst_store_close(s);
	}
	plat_blk_close(dev);
}

/* Open reads the superblocks and the map blocks, never a data page. */
TEST(lazy_open)
{
	struct pst_store *s;
	struct pst_txn *t;
	uint8_t page[PG];
	char why[256];
	disk_new(1024);
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	CHECK_EQ(pst_txn_begin(s, 1, &t), 0);
	for (uint64_t p = 0; p < 600; p++) {
		gen(p, 1, page);
		CHECK_EQ(pst_txn_put_page(t, p, page), 0);
	}
	CHECK_EQ(pst_txn_commit(t), 0);
	pst_store_close(s);
	rewrap();
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	struct blkfault_stats st;
	blkfault_stats(bf, &st);
	/* 2 superblocks + root + 3 leaves (600 pages / 256). */
	CHECK_EQ(st.reads, 6);
	bool present;
	CHECK_EQ(pst_store_read_page(s, 599, page, &present), 0);
	CHECK(present);
	uint64_t r0 = st.reads;
	blkfault_stats(bf, &st);
	CHECK(st.reads - r0 <= 3);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* A commit keeps the map blocks it wrote in the map cache: looking up the
 * pages it changed (their hashes from the map) reads nothing back. */
TEST(commit_caches_its_map_blocks)
{
	struct pst_store *s;
	struct pst_txn *t;
	uint8_t page[PG];
	disk_new(1024);
	CHECK_EQ(pst_store_format(dev, NP, &s), 0);
	for (uint64_t e = 1; e <= 2; e++) {
		CHECK_EQ(pst_txn_begin(s, e, &t), 0);
		for (uint64_t p = 0; p < NP; p += 97) {
			gen(p, (uint32_t)e, page);
			CHECK_EQ(pst_txn_put_page(t, p, page), 0);
		}
		CHECK_EQ(pst_txn_commit(t), 0);
	}
	struct blkfault_stats st;
	blkfault_stats(bf, &st);
	uint64_t r0 = st.reads;
	for (uint64_t p = 0; p < NP; p += 97) {
		uint64_t h = 0;
		gen(p, 2, page);
		CHECK_EQ(pst_store_page_hash_at(s, p, &h), 0);
		CHECK_EQ(h, pst_store_page_hash(page));
	}
	blkfault_stats(bf, &st);
	CHECK_EQ(st.reads, r0);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* The caller's lock around device writes and flushes: a reader let in at
 * each release. */
struct io_window {
	struct pst_store *s;
	const uint32_t *model;     /* the committed epoch's pages */
	bool released;
	unsigned windows, twice;
	const char *bad;
};

static void window_open(void *ctx)
{
	struct io_window *w = ctx;
	w->twice += w->released;
	w->released = true;
	w->windows++;
	if (w->bad == NULL)
		w->bad = verify(w->s, w->model, NP);
}

static void window_close(void *ctx)
{
	((struct io_window *)ctx)->released = false;
}

/* The caller's lock is released around every device write, not only
 * around flushes (pst_store_set_io_unlock), so a page-in never waits out a
 * write-behind. A reader let in at each release sees the committed epoch
 * whole (the writes go only where no committed epoch reaches), and its
 * refills of the map cache do not disturb the commit being built. */
TEST(reads_run_while_the_writer_writes)
{
	static uint32_t m1[NP], m2[NP], mx[NP];
	struct pst_store *s;
	struct pst_txn *t;
	char why[512];
	CHECK_EQ(two_epochs(1024, m1, m2), 0);
	CHECK_EQ(pst_store_open(dev, &s, why, sizeof why), 0);
	struct io_window w = { .s = s, .model = m2 };
	pst_store_set_io_unlock(s, window_open, window_close, &w);
	memcpy(mx, m2, sizeof mx);
	rng = 7;
	CHECK_EQ(random_txn(s, 3, mx, NP, 120, &t), 0);
	unsigned put_windows = w.windows;
	CHECK_EQ(pst_txn_commit(t), 0);
	CHECKF(put_windows >= 2, "%u releases while 120 pages were put", put_windows);
	CHECKF(w.windows >= put_windows + 4, "%u releases in the commit",
	       w.windows - put_windows);
	CHECK(!w.released);
	CHECK_EQ(w.twice, 0);
	CHECKF(w.bad == NULL, "a read while the writer wrote: %.300s", w.bad);
	const char *m = reopen_verified(&s, 3, mx);
	CHECKF(m == NULL, "%s", m);
	pst_store_close(s);
	plat_blk_close(dev);
}

/* The same store on a hosted file, closed and reopened; then the file is
 * truncated under it. */
TEST(hosted_file)
{
	char dir[] = "/tmp/pst_store_test.XXXXXX", path[64];
	struct plat_blk *b;
	struct pst_store *s;
	static uint32_t model[NP];
	char why[512];
	CHECK_EQ(plat_hosted_init(), 0);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/store.img", dir);
	CHECK_EQ(plat_blk_open(path, PLAT_BLK_CREATE, 128 * PG, &b), 0);
	memset(model, 0, sizeof model);
	rng = 99;
	CHECK_EQ(pst_store_format(b, NP, &s), 0);
	CHECK_EQ(random_commit(s, 1, model, NP, 30), 0);
	CHECK_EQ(random_commit(s, 2, model, NP, 30), 0);
	pst_store_close(s);
	plat_blk_close(b);
	CHECK_EQ(plat_blk_open(path, 0, 0, &b), 0);
	CHECK_EQ(pst_store_open(b, &s, why, sizeof why), 0);
	CHECK_EQ(pst_store_epoch(s), 2);
	const char *m = verify(s, model, NP);
	CHECKF(m == NULL, "%.300s", m);
	pst_store_close(s);
	plat_blk_close(b);
	CHECK_EQ(truncate(path, 64 * PG), 0);
	CHECK_EQ(plat_blk_open(path, 0, 0, &b), 0);
	CHECK_EQ(pst_store_open(b, &s, why, sizeof why), -ERR_CORRUPT);
	CHECKF(strstr(why, "truncated") && strstr(why, "128 blocks"), "%.300s", why);
	plat_blk_close(b);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	check_begin("pst_store_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_store_test/setup: plat_hosted_init\n");
		return 1;
	}
	RUN(format_open_empty);
	RUN(random_epochs);
	RUN(one_level_map);
	RUN(drop_and_reclaim);
	RUN(reclaim_small_device);
	RUN(meta_round_trip);
	RUN(epoch_rules);
	RUN(power_cut_every_io);
	RUN(flipped_data_block);
	RUN(misdirected_data_block);
	RUN(page_hash_is_the_delta_base_hash);
	RUN(flipped_map_block_falls_back);
	RUN(fallback_after_interrupted_commit);
	RUN(power_cut_after_fallback);
	RUN(damage_without_fallback);
	RUN(flipped_superblock_falls_back);
	RUN(version_mismatch);
	RUN(truncated_device);
	RUN(failed_io_keeps_old_epoch);
	RUN(failed_commit_commits_when_retried);
	RUN(unrestored_superblock_is_restored_by_the_next_commit);
	RUN(puts_and_a_second_failure_after_an_unsure_slot);
	RUN(aborted_txn_keeps_its_blocks_while_the_slot_is_unsure);
	RUN(puts_after_a_failed_commit);
	RUN(retried_commit_refuses_lost_blocks);
	RUN(failed_put_retried_keeps_the_count);
	RUN(lazy_open);
	RUN(commit_caches_its_map_blocks);
	RUN(reads_run_while_the_writer_writes);
	RUN(hosted_file);
	free(ram.data);
	return check_done();
}
