/* pst_image_test.c — persist/ put together: an image survives close and
 * reopen with exactly its contents, and the deltas it emits rebuild the same
 * image on a second store (what a replica does), epoch by epoch; an epoch
 * whose commit fails is committed when retried, and one whose saved pages
 * the device lost goes into the next epoch; a volatile range is dropped at
 * the call and never stored. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "blk_fault.h"
#include "hosted.h"
#include "../../persist/delta.h"
#include "../../persist/image.h"
#include "../../persist/mutator.h"
#include "../../persist/store.h"

#define ARENA (32u << 20)
#define NPAGES (ARENA / PLAT_PAGE_SIZE)

static char dir_[64];

static struct plat_blk *new_file(const char *name, uint64_t size)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir_, name);
	unlink(path);
	struct plat_blk *b = NULL;
	if (plat_blk_open(path, PLAT_BLK_CREATE, size, &b) < 0)
		return NULL;
	return b;
}

static struct plat_blk *reopen_file(const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir_, name);
	struct plat_blk *b = NULL;
	if (plat_blk_open(path, 0, 0, &b) < 0)
		return NULL;
	return b;
}

/* Deltas as the image emitted them, in order. */
struct delta_log {
	int n;
	uint64_t epoch[256];
	void *bytes[256];
	size_t len[256];
};

static void record_delta(void *ctx, uint64_t epoch, const void *d, size_t len)
{
	struct delta_log *log = ctx;
	if (log->n == 256)
		return;
	log->epoch[log->n] = epoch;
	log->bytes[log->n] = malloc(len);
	memcpy(log->bytes[log->n], d, len);
	log->len[log->n++] = len;
}

static void write_pattern(uint8_t *base, uint32_t round)
{
	for (uint32_t i = 0; i < 200; i++) {
		uint32_t pg = (i * 37 + round * 11) % NPAGES;
		uint64_t *w = (uint64_t *)(base + (size_t)pg * PLAT_PAGE_SIZE);
		w[(i + round) % 512] = ((uint64_t)round << 32) | i;
		w[0] = round;
	}
}

/* The test thread as the one mutator, and an image on a file. */
struct rig {
	struct plat_blk *blk;
	struct pst_mut_registry *reg;
	struct pst_mutator *m;
	struct pst_image_config cfg;
	struct pst_image *img;
	char why[256];
};

static int rig_open(struct rig *r, const char *name, bool create)
{
	if (create) {
		memset(r, 0, sizeof *r);
		if (pst_mut_registry_new(&r->reg) != 0 || pst_mut_register(r->reg, &r->m) != 0)
			return -1;
	}
	r->blk = create ? new_file(name, 64u << 20) : reopen_file(name);
	if (r->blk == NULL)
		return -1;
	r->cfg = (struct pst_image_config){ .blk = r->blk, .arena_size = ARENA,
					    .world = pst_mut_world(r->reg) };
	return create ? pst_image_create(&r->cfg, &r->img, r->why, sizeof r->why)
		      : pst_image_open(&r->cfg, &r->img, r->why, sizeof r->why);
}

static int rig_sync(struct rig *r)
{
	pst_mut_block(r->m);
	int rc = pst_image_sync(r->img, 10000000000ull, NULL);
	pst_mut_unblock(r->m);
	return rc;
}

static int rig_close(struct rig *r, bool final)
{
	pst_mut_block(r->m);
	int rc = pst_image_close(r->img, final);
	pst_mut_unblock(r->m);
	plat_blk_close(r->blk);
	return rc;
}

static void rig_free(struct rig *r)
{
	pst_mut_unregister(r->m);
	pst_mut_registry_free(r->reg);
}

TEST(reopen_has_same_contents)
{
	struct rig r;
	CHECKF(rig_open(&r, "a.img", true) == 0, "%s", r.why);
	uint8_t *base = pst_image_base(r.img);
	CHECK(base == (uint8_t *)PLAT_ARENA_BASE);
	for (uint32_t round = 1; round <= 5; round++) {
		write_pattern(base, round);
		CHECK_EQ(rig_sync(&r), 0);
	}
	uint8_t *copy = malloc(ARENA);
	memcpy(copy, base, ARENA);
	/* Not yet snapshotted: the final snapshot at close must carry it. */
	base[12345] = 0x5a;
	copy[12345] = 0x5a;
	CHECK_EQ(rig_close(&r, true), 0);

	CHECKF(rig_open(&r, "a.img", false) == 0, "%s", r.why);
	CHECK(pst_snap_committed_epoch(pst_image_snap(r.img)) >= 6);
	CHECK(memcmp(pst_image_base(r.img), copy, ARENA) == 0);
	CHECK_EQ(rig_close(&r, false), 0);
	free(copy);
	rig_free(&r);
}

/* A page written back with its committed contents (as the arena's write
 * fault-around may list one) is neither shipped nor stored; a changed one
 * beside it is; both read back. */
TEST(unchanged_pages_are_dropped)
{
	struct rig r;
	CHECKF(rig_open(&r, "u.img", true) == 0, "%s", r.why);
	uint8_t *base = pst_image_base(r.img);
	memset(base + 7 * PLAT_PAGE_SIZE, 0xab, PLAT_PAGE_SIZE);
	CHECK_EQ(rig_sync(&r), 0);
	struct pst_image_stats s0, s1;
	pst_image_stats(r.img, &s0);
	memset(base + 7 * PLAT_PAGE_SIZE, 0xab, PLAT_PAGE_SIZE);   /* same bytes */
	base[9 * PLAT_PAGE_SIZE] = 0;                            /* zeros stay zeros */
	memset(base + 8 * PLAT_PAGE_SIZE, 0xcd, PLAT_PAGE_SIZE);
	CHECK_EQ(rig_sync(&r), 0);
	pst_image_stats(r.img, &s1);
	CHECK_EQ(s1.pages_unchanged - s0.pages_unchanged, 2);
	CHECK_EQ(s1.raw_bytes - s0.raw_bytes, PLAT_PAGE_SIZE);    /* page 8 only */
	CHECK_EQ(rig_close(&r, false), 0);
	CHECKF(rig_open(&r, "u.img", false) == 0, "%s", r.why);
	base = pst_image_base(r.img);
	for (unsigned i = 0; i < PLAT_PAGE_SIZE; i++) {
		CHECK_EQ(base[7 * PLAT_PAGE_SIZE + i], 0xab);
		CHECK_EQ(base[8 * PLAT_PAGE_SIZE + i], 0xcd);
		CHECK_EQ(base[9 * PLAT_PAGE_SIZE + i], 0);
	}
	CHECK_EQ(rig_close(&r, false), 0);
	rig_free(&r);
}

/* A volatile range (the VM's nursery): a page in it written before the
 * call (205) is reported unused, not stored; scratch writes reach no epoch
 * while a changed neighbour (199) is stored each time; after a reopen the
 * range reads zeros and its neighbours keep their data. */
TEST(volatile_range_is_dropped_and_never_stored)
{
	enum { LO = 200, HI = 210 };
	const size_t pg = PLAT_PAGE_SIZE;
	struct rig r;
	CHECKF(rig_open(&r, "v.img", true) == 0, "%s", r.why);
	uint8_t *base = pst_image_base(r.img);
	for (uint32_t p = LO - 1; p <= HI; p++)
		memset(base + p * pg, (int)p, pg);
	CHECK_EQ(rig_sync(&r), 0);
	base[205 * pg] = 1;
	struct pst_arena *a = pst_image_arena(r.img);
	CHECK_EQ(pst_arena_set_volatile(a, LO, HI - LO), 0);
	struct pst_image_stats s0, s1;
	pst_image_stats(r.img, &s0);
	for (int round = 0; round < 2; round++) {
		for (uint32_t p = LO; p < HI; p++)
			memset(base + p * pg, 0xee, pg);
		memset(base + (LO - 1) * pg, 0x90 + round, pg);
		CHECK_EQ(rig_sync(&r), 0);
	}
	pst_image_stats(r.img, &s1);
	CHECK_EQ(s1.snap.pages_unused - s0.snap.pages_unused, HI - LO);
	CHECK_EQ(s1.raw_bytes - s0.raw_bytes, 2 * pg);       /* 199 twice */
	CHECK_EQ(s1.arena.volatile_faults - s0.arena.volatile_faults, HI - LO);
	CHECK_EQ(rig_close(&r, true), 0);
	CHECKF(rig_open(&r, "v.img", false) == 0, "%s", r.why);
	base = pst_image_base(r.img);
	for (size_t i = 0; i < pg; i++) {
		CHECK_EQ(base[(LO - 1) * pg + i], 0x91);
		CHECK_EQ(base[HI * pg + i], HI);
		for (uint32_t p = LO; p < HI; p++)
			CHECK_EQ(base[p * pg + i], 0);
	}
	CHECK_EQ(rig_close(&r, false), 0);
	rig_free(&r);
}

struct replica {
	struct pst_store *s;
	struct pst_txn *t;
};
static int r_read(void *c, uint64_t p, void *b) { struct replica *r = c; return pst_store_read_page(r->s, p, b, NULL); }
static int r_write(void *c, uint64_t p, const void *b) { struct replica *r = c; return pst_txn_put_page(r->t, p, b); }
static int r_drop(void *c, uint64_t p) { struct replica *r = c; return pst_txn_drop_page(r->t, p); }

TEST(deltas_rebuild_a_replica)
{
	struct delta_log *log = calloc(1, sizeof *log);
	struct plat_blk *blk = new_file("b.img", 64u << 20);
	struct plat_blk *rblk = new_file("replica.img", 64u << 20);
	CHECK(blk && rblk);
	struct pst_mut_registry *reg;
	struct pst_mutator *m;
	CHECK(pst_mut_registry_new(&reg) == 0 && pst_mut_register(reg, &m) == 0);
	struct pst_image_config cfg = { .blk = blk, .arena_size = ARENA,
					.world = pst_mut_world(reg),
					.on_delta = record_delta, .cb_ctx = log };
	struct pst_image *img;
	char why[256];
	CHECK_EQ(pst_image_create(&cfg, &img, why, sizeof why), 0);
	uint8_t *base = pst_image_base(img);
	for (uint32_t r = 1; r <= 8; r++) {
		write_pattern(base, r);
		pst_mut_block(m);
		CHECK_EQ(pst_image_sync(img, 10000000000ull, NULL), 0);
		pst_mut_unblock(m);
	}
	/* Declared unused pages travel as "unused" records. */
	pst_arena_declare_unused(pst_image_arena(img), 37, 1);
	pst_mut_block(m);
	CHECK_EQ(pst_image_sync(img, 10000000000ull, NULL), 0);
	pst_mut_unblock(m);
	CHECK(log->n >= 9);

	struct replica r;
	CHECK_EQ(pst_store_format(rblk, NPAGES, &r.s), 0);
	for (int i = 0; i < log->n; i++) {
		struct pst_delta_info info;
		CHECK_EQ(pst_delta_verify(log->bytes[i], log->len[i], &info), 0);
		CHECK_EQ(info.epoch, log->epoch[i]);
		CHECK_EQ(pst_txn_begin(r.s, info.epoch, &r.t), 0);
		struct pst_delta_target t = { .ctx = &r, .epoch = pst_store_epoch(r.s),
					      .read_page = r_read, .write_page = r_write,
					      .drop_page = r_drop };
		CHECK_EQ(pst_delta_apply(log->bytes[i], log->len[i], &t), 0);
		CHECK_EQ(pst_txn_commit(r.t), 0);
	}
	/* A delta applied twice (to the wrong base) is refused. */
	CHECK_EQ(pst_txn_begin(r.s, log->epoch[log->n - 1] + 1, &r.t), 0);
	struct pst_delta_target t = { .ctx = &r, .epoch = pst_store_epoch(r.s),
				      .read_page = r_read, .write_page = r_write,
				      .drop_page = r_drop };
	CHECK(pst_delta_apply(log->bytes[log->n - 1], log->len[log->n - 1], &t) < 0);
	pst_txn_abort(r.t);

	uint8_t page[PLAT_PAGE_SIZE];
	for (uint64_t p = 0; p < NPAGES; p++) {
		CHECK_EQ(pst_store_read_page(r.s, p, page, NULL), 0);
		CHECKF(memcmp(page, base + p * PLAT_PAGE_SIZE, PLAT_PAGE_SIZE) == 0,
		       "replica page %llu differs", (unsigned long long)p);
	}
	struct pst_image_stats st;
	pst_image_stats(img, &st);
	CHECK(st.delta_bytes > 0 && st.delta_bytes < st.raw_bytes / 4);
	pst_mut_block(m);
	CHECK_EQ(pst_image_close(img, false), 0);
	pst_mut_unblock(m);
	/* The leader commits its own pages directly; its store must hold the
	 * very image the replica rebuilt from the deltas alone. */
	struct pst_store *ls;
	CHECK_EQ(pst_store_open(blk, &ls, why, sizeof why), 0);
	CHECK_EQ(pst_store_epoch(ls), pst_store_epoch(r.s));
	uint8_t lpage[PLAT_PAGE_SIZE];
	for (uint64_t p = 0; p < NPAGES; p++) {
		bool lp = false, rp = false;
		CHECK_EQ(pst_store_read_page(ls, p, lpage, &lp), 0);
		CHECK_EQ(pst_store_read_page(r.s, p, page, &rp), 0);
		CHECKF(lp == rp && memcmp(page, lpage, PLAT_PAGE_SIZE) == 0,
		       "leader and replica stores differ at page %llu",
		       (unsigned long long)p);
	}
	pst_store_close(ls);
	pst_store_close(r.s);
	plat_blk_close(blk);
	plat_blk_close(rblk);
	for (int i = 0; i < log->n; i++)
		free(log->bytes[i]);
	free(log);
	pst_mut_unregister(m);
	pst_mut_registry_free(reg);
}

/* A fresh image on a fault-injecting file, with the test thread as its one
 * mutator; cfg brings the callbacks and gets the rest filled in. */
static int fault_image(const char *name, struct pst_image_config *cfg,
		       struct blkfault **f, struct pst_mut_registry **reg,
		       struct pst_mutator **m, struct pst_image **img)
{
	struct plat_blk *file = new_file(name, 64u << 20);
	if (file == NULL || blkfault_wrap(file, true, f) != 0 ||
	    pst_mut_registry_new(reg) != 0 || pst_mut_register(*reg, m) != 0)
		return -1;
	cfg->blk = blkfault_dev(*f);
	cfg->arena_size = ARENA;
	cfg->world = pst_mut_world(*reg);
	char why[256];
	if (pst_image_create(cfg, img, why, sizeof why) != 0) {
		fprintf(stderr, "%s: %s\n", name, why);
		return -1;
	}
	return 0;
}

/* Opens the image file `name` again (cfg as it was created): it must be at
 * `epoch` and hold exactly `want`; a message otherwise. */
static const char *reopened_holds(const char *name, struct pst_image_config *cfg,
				  struct pst_mutator *m, uint64_t epoch,
				  const uint8_t *want)
{
	static char msg[320];
	struct pst_image *img;
	struct plat_blk *blk = reopen_file(name);
	msg[0] = 0;
	cfg->blk = blk;
	if (blk == NULL || pst_image_open(cfg, &img, msg, sizeof msg) != 0) {
		if (blk != NULL)
			plat_blk_close(blk);
		return msg[0] ? msg : "cannot reopen the file";
	}
	if (pst_image_committed_epoch(img) != epoch)
		snprintf(msg, sizeof msg, "reopened at epoch %llu, not %llu",
			 (unsigned long long)pst_image_committed_epoch(img),
			 (unsigned long long)epoch);
	else if (memcmp(pst_image_base(img), want, ARENA) != 0)
		snprintf(msg, sizeof msg, "reopened image differs from epoch "
			 "%llu's instant", (unsigned long long)epoch);
	pst_mut_block(m);
	if (pst_image_close(img, false) != 0 && msg[0] == 0)
		snprintf(msg, sizeof msg, "close failed");
	pst_mut_unblock(m);
	plat_blk_close(blk);
	return msg[0] ? msg : NULL;
}

/* When an epoch's commit fails (a flush error here), the retried epoch_end
 * commits the same txn again: the epoch is committed once, with the
 * contents at its instant. */
static uint64_t commits_seen[8];
static unsigned ncommits_seen;
static void count_commit(void *ctx, uint64_t epoch)
{
	(void)ctx;
	if (ncommits_seen < 8)
		commits_seen[ncommits_seen] = epoch;
	ncommits_seen++;
}

/* A failed commit (its nth flush fails) is retried, with or without a
 * consumer of the deltas; on_commit sees every committed epoch, on_delta
 * every committed delta. */
static void retried_commit(bool shipping, uint64_t nth_flush)
{
	struct delta_log *log = calloc(1, sizeof *log);
	ncommits_seen = 0;
	struct blkfault *f;
	struct pst_mut_registry *reg;
	struct pst_mutator *m;
	struct pst_image *img;
	struct pst_image_config cfg = { .on_commit = count_commit,
					.on_delta = shipping ? record_delta : NULL,
					.cb_ctx = log };
	CHECK_EQ(fault_image("c.img", &cfg, &f, &reg, &m, &img), 0);
	uint8_t *base = pst_image_base(img);
	uint64_t e1, e2;
	write_pattern(base, 1);
	pst_mut_block(m);
	CHECK_EQ(pst_image_sync(img, 10000000000ull, &e1), 0);
	pst_mut_unblock(m);
	write_pattern(base, 2);
	uint8_t *copy = malloc(ARENA);
	memcpy(copy, base, ARENA);
	blkfault_fail_flush(f, nth_flush);
	pst_mut_block(m);
	CHECK_EQ(pst_image_sync(img, 10000000000ull, &e2), 0);
	pst_mut_unblock(m);
	CHECK_EQ(e2, e1 + 1);
	struct pst_image_stats st;
	pst_image_stats(img, &st);
	CHECK(st.snap.sink_errors >= 1);          /* the fault did fire */
	CHECK_EQ(st.snap.epochs_committed, 2);
	CHECK(ncommits_seen == 2 && commits_seen[0] == e1 && commits_seen[1] == e2);
	CHECK_EQ(log->n, shipping ? 2 : 0);
	/* Without a consumer no delta is encoded. */
	CHECK(shipping ? st.delta_bytes > 0 : st.delta_bytes == 0);
	CHECK(!shipping || (log->epoch[0] == e1 && log->epoch[1] == e2));
	pst_mut_block(m);
	CHECK_EQ(pst_image_close(img, false), 0);
	pst_mut_unblock(m);
	plat_blk_close(blkfault_dev(f));

	const char *msg = reopened_holds("c.img", &cfg, m, e2, copy);
	CHECKF(msg == NULL, "%s", msg);
	free(copy);
	for (int i = 0; i < log->n; i++)
		free(log->bytes[i]);
	free(log);
	pst_mut_unregister(m);
	pst_mut_registry_free(reg);
}

TEST(failed_commit_is_retried)
{
	for (uint64_t n = 0; n < 2 && !check_failed_now_; n++) {
		retried_commit(false, n);           /* data, then superblock */
		if (!check_failed_now_)
			retried_commit(true, n);
	}
}

/* pst_image_sync on a thread of its own. */
struct syncer {
	struct pst_image *img;
	int rc;
};

static void sync_main(void *arg)
{
	struct syncer *y = arg;
	y->rc = pst_image_sync(y->img, 10000000000ull, NULL);
}

/* Sets the arena to `want`, writing only the pages that differ. */
static void set_arena(uint8_t *base, const uint8_t *want)
{
	for (size_t off = 0; off < ARENA; off += PLAT_PAGE_SIZE)
		if (memcmp(base + off, want + off, PLAT_PAGE_SIZE) != 0)
			memcpy(base + off, want + off, PLAT_PAGE_SIZE);
}

/* The device loses power at its nth write or flush of epoch 2 while the
 * process lives on (so epoch 2's sink calls fail until the power is back),
 * then drops or tears a seeded part of the writes it held. An epoch whose
 * saved pages were lost can never commit: its pages go into the next epoch,
 * and the sync that took it comes back with that one. With `revert`, two
 * more epochs put epoch 1's contents back and then epoch 2's again (what a
 * stale record of the lost epoch would take for unchanged). The image
 * reopens with epoch 2's contents either way. */
static void lost_round(uint64_t n, bool revert, unsigned *lost)
{
	struct blkfault *f;
	struct pst_mut_registry *reg;
	struct pst_mutator *m;
	struct pst_image *img;
	struct pst_image_config cfg = { 0 };
	CHECK_EQ(fault_image("l.img", &cfg, &f, &reg, &m, &img), 0);
	uint8_t *base = pst_image_base(img);
	uint8_t *c1 = malloc(ARENA), *c2 = malloc(ARENA);
	CHECK(c1 && c2);
	write_pattern(base, 1);
	memcpy(c1, base, ARENA);
	pst_mut_block(m);
	CHECK_EQ(pst_image_sync(img, 10000000000ull, NULL), 0);   /* 1 */
	pst_mut_unblock(m);
	write_pattern(base, 2);
	memcpy(c2, base, ARENA);
	/* Epoch 2 by a sync on another thread, which must come back with
	 * the epoch that holds these pages, whatever the device did. */
	pst_mut_block(m);
	blkfault_cut_at(f, n);
	struct syncer y = { img, 1 };
	plat_thread *t;
	CHECK_EQ(plat_thread_create(&t, sync_main, &y, "syncer"), 0);
	struct blkfault_stats bs;
	for (int i = 0; i < 5000; i++) {
		blkfault_stats(f, &bs);
		if (bs.dead || pst_image_committed_epoch(img) >= 2)
			break;
		plat_sleep_ns(1000000);
	}
	blkfault_stats(f, &bs);
	if (bs.dead)
		CHECK_EQ(blkfault_power_cut(f, n * 31 + 7), 0);
	blkfault_clear(f);
	plat_thread_join(t);
	CHECK_EQ(y.rc, 0);
	CHECK(pst_image_committed_epoch(img) >= 2);
	CHECK(memcmp(base, c2, ARENA) == 0);
	if (revert) {
		pst_mut_unblock(m);
		set_arena(base, c1);
		pst_mut_block(m);
		CHECK_EQ(pst_image_sync(img, 10000000000ull, NULL), 0);
		pst_mut_unblock(m);
		set_arena(base, c2);
		pst_mut_block(m);
		CHECK_EQ(pst_image_sync(img, 10000000000ull, NULL), 0);
	}
	uint64_t e = pst_image_committed_epoch(img);
	struct pst_image_stats st;
	pst_image_stats(img, &st);
	CHECK_EQ(st.snap.epochs_committed + st.snap.epochs_lost, e);
	CHECK_EQ(pst_image_close(img, false), 0);
	pst_mut_unblock(m);
	plat_blk_close(blkfault_dev(f));

	const char *msg = reopened_holds("l.img", &cfg, m, e, c2);
	CHECKF(msg == NULL, "cut at %llu%s: %s", (unsigned long long)n,
	       revert ? ", reverted" : "", msg);
	free(c1);
	free(c2);
	pst_mut_unregister(m);
	pst_mut_registry_free(reg);
	*lost += (unsigned)st.snap.epochs_lost;
}

TEST(lost_epoch_goes_into_the_next)
{
	unsigned lost[2] = { 0, 0 };
	for (uint64_t n = 0; n < 8 && !check_failed_now_; n++)
		for (int revert = 0; revert < 2 && !check_failed_now_; revert++)
			lost_round(n, revert, &lost[revert]);
	if (!check_failed_now_)                /* some cuts did lose pages */
		CHECK(lost[0] > 0 && lost[1] > 0);
}

/* A commit whose superblock write fails, and the write that restores the
 * slot too (the power is off), is retried like any failed commit: while
 * the power stays off, sync times out with nothing committed; once it is
 * back, the writer's retry puts the slot back and commits the epoch, the
 * next sync commits one more, and the file reopens at that one holding the
 * same memory. A first pass on a sound device
 * counts epoch 2's writes and flushes; the second loses power at its
 * superblock write, the third at the superblock's flush (the write taken
 * before it may land when the power comes back). */
TEST(a_failed_superblock_restore_is_retried)
{
	uint64_t calls = 0;
	uint8_t *c2 = malloc(ARENA);
	CHECK(c2 != NULL);
	for (int pass = 0; pass < 3 && !check_failed_now_; pass++) {
		struct blkfault *f;
		struct pst_mut_registry *reg;
		struct pst_mutator *m;
		struct pst_image *img;
		struct pst_image_config cfg = { 0 };
		CHECK_EQ(fault_image("k.img", &cfg, &f, &reg, &m, &img), 0);
		uint8_t *base = pst_image_base(img);
		write_pattern(base, 1);
		pst_mut_block(m);
		CHECK_EQ(pst_image_sync(img, 10000000000ull, NULL), 0);
		pst_mut_unblock(m);
		write_pattern(base, 2);
		memcpy(c2, base, ARENA);
		struct blkfault_stats b0, b1;
		blkfault_stats(f, &b0);
		if (pass > 0)
			blkfault_cut_at(f, calls - (pass == 1 ? 2 : 1));
		pst_mut_block(m);
		uint64_t e = 0;
		int rc = pst_image_sync(img, pass ? 300000000ull : 10000000000ull, &e);
		blkfault_stats(f, &b1);
		if (pass == 0) {
			CHECK_EQ(rc, 0);
			calls = b1.writes + b1.flushes - b0.writes - b0.flushes;
			CHECK(calls >= 4);
		} else {
			CHECKF(rc == -ERR_TIMEDOUT, "sync with the power off: %s",
			       err_str(rc));
			/* The writer reaches the cut in its own time. */
			for (int i = 0; i < 1000 && !b1.dead; i++) {
				plat_sleep_ns(10000000);
				blkfault_stats(f, &b1);
			}
			CHECK(b1.dead);
			CHECK_EQ(pst_image_committed_epoch(img), 1);
			CHECK_EQ(blkfault_power_cut(f, 3), 0);
			blkfault_clear(f);
			rc = pst_image_sync(img, 10000000000ull, &e);
			CHECKF(rc == 0, "pass %d: sync with the power back: %s",
			       pass, err_str(rc));
		}
		/* The second sync's instant is epoch 3, after 2 committed. */
		uint64_t want = pass ? 3 : 2;
		CHECK_EQ(e, want);
		CHECK_EQ(pst_image_committed_epoch(img), want);
		CHECK_EQ(pst_image_close(img, false), 0);
		pst_mut_unblock(m);
		plat_blk_close(blkfault_dev(f));
		const char *msg = reopened_holds("k.img", &cfg, m, want, c2);
		CHECKF(msg == NULL, "pass %d: %s", pass, msg);
		pst_mut_unregister(m);
		pst_mut_registry_free(reg);
	}
	free(c2);
}

/* A device whose flush, once armed, waits at a gate (at most 3 s). */
struct gate_blk {
	struct plat_blk pub;
	struct plat_blk *inner;
	atomic_int armed, in_flush, released;
};

static int gate_read(struct plat_blk *b, uint64_t off, void *buf, size_t len)
{
	struct gate_blk *g = (struct gate_blk *)b;
	return g->inner->ops->read(g->inner, off, buf, len);
}

static int gate_write(struct plat_blk *b, uint64_t off, const void *buf,
		      size_t len)
{
	struct gate_blk *g = (struct gate_blk *)b;
	return g->inner->ops->write(g->inner, off, buf, len);
}

static int gate_flush(struct plat_blk *b)
{
	struct gate_blk *g = (struct gate_blk *)b;
	if (atomic_load(&g->armed)) {
		atomic_store(&g->in_flush, 1);
		for (int i = 0; i < 3000 && !atomic_load(&g->released); i++)
			plat_sleep_ns(1000000);
		atomic_store(&g->released, 1);
	}
	return g->inner->ops->flush(g->inner);
}

static void gate_close(struct plat_blk *b)
{
	struct gate_blk *g = (struct gate_blk *)b;
	plat_blk_close(g->inner);
}

static const struct plat_blk_ops gate_ops = { gate_read, gate_write,
					      gate_flush, gate_close };

/* A page-in (the pager reads the store) does not wait for a commit's
 * device flush: the writer does not hold the store across it. */
TEST(page_in_does_not_wait_for_a_commit_flush)
{
	struct rig r;
	CHECKF(rig_open(&r, "g.img", true) == 0, "%s", r.why);
	uint8_t *base = pst_image_base(r.img);
	for (unsigned p = 0; p < 16; p++)
		memset(base + p * PLAT_PAGE_SIZE, 0x40 + (int)p, PLAT_PAGE_SIZE);
	CHECK_EQ(rig_close(&r, true), 0);

	static struct gate_blk g;
	memset(&g, 0, sizeof g);
	g.inner = reopen_file("g.img");
	CHECK(g.inner != NULL);
	g.pub = (struct plat_blk){ .ops = &gate_ops, .size = g.inner->size,
				   .name = "gate" };
	r.cfg = (struct pst_image_config){ .blk = &g.pub,
					   .world = pst_mut_world(r.reg) };
	CHECK_EQ(pst_image_open(&r.cfg, &r.img, r.why, sizeof r.why), 0);
	base = pst_image_base(r.img);
	base[0] = 1;                          /* page 0: in the next epoch */
	atomic_store(&g.armed, 1);
	struct syncer y = { .img = r.img, .rc = 1 };
	plat_thread *t;
	CHECK_EQ(plat_thread_create(&t, sync_main, &y, "syncer"), 0);
	for (int i = 0; i < 3000 && !atomic_load(&g.in_flush); i++) {
		pst_mut_poll(r.m);            /* let the instant happen */
		plat_sleep_ns(1000000);
	}
	bool flushing = atomic_load(&g.in_flush);
	bool page_ok = base[5 * PLAT_PAGE_SIZE + 7] == 0x45;   /* a page-in */
	bool during = !atomic_load(&g.released);
	atomic_store(&g.released, 1);
	plat_thread_join(t);
	CHECK(flushing);
	CHECK(page_ok);
	CHECK(during);                        /* read while the flush waited */
	CHECK_EQ(y.rc, 0);
	atomic_store(&g.armed, 0);
	pst_mut_block(r.m);
	CHECK_EQ(pst_image_close(r.img, false), 0);
	pst_mut_unblock(r.m);
	plat_blk_close(&g.pub);
	rig_free(&r);
}

TEST(foreign_device_refused)
{
	struct plat_blk *blk = new_file("junk.img", 1u << 20);
	CHECK(blk != NULL);
	uint8_t junk[PLAT_PAGE_SIZE];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	for (uint64_t off = 0; off < (1u << 20); off += sizeof junk)
		CHECK_EQ(plat_blk_write(blk, off, junk, sizeof junk), 0);
	struct pst_mut_registry *reg;
	CHECK(pst_mut_registry_new(&reg) == 0);
	struct pst_image_config cfg = { .blk = blk, .world = pst_mut_world(reg) };
	struct pst_image *img;
	char why[256];
	CHECK(pst_image_open(&cfg, &img, why, sizeof why) < 0);
	CHECKF(why[0] != 0, "no reason given");
	uint8_t back[PLAT_PAGE_SIZE];
	CHECK_EQ(plat_blk_read(blk, 0, back, sizeof back), 0);
	CHECK(memcmp(back, junk, sizeof junk) == 0);
	plat_blk_close(blk);
	pst_mut_registry_free(reg);
}

int main(void)
{
	check_begin("pst_image_test");
	if (plat_hosted_init() < 0)
		return 1;
	snprintf(dir_, sizeof dir_, "/tmp/pst_image_test.XXXXXX");
	if (!mkdtemp(dir_))
		return 1;
	RUN(reopen_has_same_contents);
	RUN(unchanged_pages_are_dropped);
	RUN(volatile_range_is_dropped_and_never_stored);
	RUN(deltas_rebuild_a_replica);
	RUN(failed_commit_is_retried);
	RUN(lost_epoch_goes_into_the_next);
	RUN(a_failed_superblock_restore_is_retried);
	RUN(page_in_does_not_wait_for_a_commit_flush);
	RUN(foreign_device_refused);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir_);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
