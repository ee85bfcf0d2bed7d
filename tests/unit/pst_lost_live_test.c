/* pst_lost_live_test.c — the device loses power and gets it back, again and
 * again, while two mutator threads keep writing and the clock takes a
 * snapshot every 2 ms: epochs whose saved pages the device dropped can never
 * commit, so their pages go back on the open epoch's list while the
 * mutators are writing some of them again. Whatever the cuts hit, the
 * committed epoch only moves forward, and the image reopens with every
 * page whole, holding exactly the memory of the final sync's instant. (A
 * cut that also fails the write restoring a superblock slot is retried
 * like any failed commit once the power is back.) */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "blk_fault.h"
#include "hosted.h"
#include "../../persist/image.h"
#include "../../persist/mutator.h"

#define ARENA  (16u << 20)
#define NPAGES (ARENA / PLAT_PAGE_SIZE)
#define ROUNDS 40

static char path[64];
static uint8_t *base;
static struct pst_mut_registry *reg;
static atomic_bool quit;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29);
}

/* Each writer owns half the pages and rewrites runs of them, polling
 * between pages and pausing between runs. A page written holds its counter n >= 1 in word 0 and
 * words derived from the page and n after it, so a page mixed from two
 * writes, or from another page, shows. */
static void fill(uint64_t *w, uint32_t pg, uint64_t n)
{
	w[0] = n;
	for (unsigned i = 1; i < PLAT_PAGE_SIZE / 8; i++)
		w[i] = mix((uint64_t)pg << 40 ^ n << 12 ^ i);
}

static bool whole(const uint8_t *img, uint32_t pg)
{
	const uint64_t *w = (const uint64_t *)(img + (size_t)pg * PLAT_PAGE_SIZE);
	uint64_t want[PLAT_PAGE_SIZE / 8] = { 0 };
	if (w[0] != 0)
		fill(want, pg, w[0]);
	return memcmp(w, want, sizeof want) == 0;
}

static void writer(void *arg)
{
	unsigned half = (unsigned)(uintptr_t)arg;
	struct pst_mutator *m;
	if (pst_mut_register(reg, &m) != 0)
		return;
	uint64_t seed = half + 1, n = 0;
	while (!atomic_load(&quit)) {
		seed = mix(seed);
		uint32_t first = (uint32_t)(seed % (NPAGES / 2)), run = 1 + (uint32_t)(seed >> 40) % 24;
		for (uint32_t k = 0; k < run; k++) {
			uint32_t pg = half * (NPAGES / 2) + (first + k) % (NPAGES / 2);
			fill((uint64_t *)(base + (size_t)pg * PLAT_PAGE_SIZE), pg, ++n);
			pst_mut_poll(m);
		}
		/* Paced, so most pages written in an epoch the device loses
		 * are not written again soon: only the re-listing saves them. */
		pst_mut_block(m);
		plat_sleep_ns(200000);
		pst_mut_unblock(m);
	}
	pst_mut_unregister(m);
}

TEST(power_cuts_while_mutators_write)
{
	struct plat_blk *file = NULL;
	struct blkfault *f = NULL;
	struct pst_image *img = NULL;
	unlink(path);
	CHECK(plat_blk_open(path, PLAT_BLK_CREATE, 96u << 20, &file) == 0);
	CHECK(blkfault_wrap(file, true, &f) == 0);
	CHECK(pst_mut_registry_new(&reg) == 0);
	struct pst_image_config cfg = { .blk = blkfault_dev(f), .arena_size = ARENA,
					.world = pst_mut_world(reg),
					.interval_ns = 2000000 };
	char why[256] = "";
	CHECKF(pst_image_create(&cfg, &img, why, sizeof why) == 0, "%s", why);
	if (img == NULL)
		return;
	base = pst_image_base(img);
	/* Every page in before the cuts: a page-in that fails is fatal by
	 * design (the fault cannot return garbage), and reads fail while the
	 * power is off. */
	for (uint32_t pg = 0; pg < NPAGES; pg++)
		(void)*(volatile uint8_t *)(base + (size_t)pg * PLAT_PAGE_SIZE);
	atomic_store(&quit, false);
	plat_thread *t[2];
	for (unsigned i = 0; i < 2; i++)
		CHECK(plat_thread_create(&t[i], writer, (void *)(uintptr_t)i, "writer") == 0);

	uint64_t seed = 12345, last = 0;
	for (int round = 0; round < ROUNDS; round++) {
		seed = mix(seed);
		plat_sleep_ns(1000000 + seed % 4000000);
		blkfault_cut_at(f, (seed >> 20) % 24);
		struct blkfault_stats bs;
		for (int i = 0; i < 200; i++) {
			blkfault_stats(f, &bs);
			if (bs.dead)
				break;
			plat_sleep_ns(250000);
		}
		plat_sleep_ns(1000000 + (seed >> 30) % 3000000);   /* dead */
		CHECK(blkfault_power_cut(f, seed) == 0);
		blkfault_clear(f);
		uint64_t e = pst_image_committed_epoch(img);
		CHECKF(e >= last, "committed epoch went from %llu to %llu",
		       (unsigned long long)last, (unsigned long long)e);
		last = e;
	}
	atomic_store(&quit, true);
	for (unsigned i = 0; i < 2; i++)
		plat_thread_join(t[i]);

	/* The mutators are gone: memory now is the last instant's. */
	pst_image_stop_clock(img);
	uint8_t *want = malloc(ARENA);
	CHECK(want != NULL);
	memcpy(want, base, ARENA);
	uint64_t e = 0;
	int rc = pst_image_sync(img, 30000000000ull, &e);
	CHECKF(rc == 0, "final sync: %s", err_str(rc));
	struct pst_image_stats st;
	pst_image_stats(img, &st);
	/* the cuts did make the device lose some */
	CHECKF(st.snap.epochs_lost > 0, "no epoch was lost in %d cuts (%llu committed)",
	       ROUNDS, (unsigned long long)st.snap.epochs_committed);
	e = pst_image_committed_epoch(img);
	CHECK(e >= last);
	int crc = pst_image_close(img, false);
	CHECKF(crc == 0, "close: %s", err_str(crc));
	plat_blk_close(blkfault_dev(f));

	CHECK(plat_blk_open(path, 0, 0, &file) == 0);
	cfg.blk = file;
	cfg.interval_ns = 0;
	CHECKF(pst_image_open(&cfg, &img, why, sizeof why) == 0, "%s", why);
	if (img != NULL) {
		CHECK_EQ(pst_image_committed_epoch(img), e);
		uint32_t broken = 0;
		for (uint32_t pg = 0; pg < NPAGES; pg++)
			broken += !whole(pst_image_base(img), pg);
		CHECKF(broken == 0, "%u pages not whole", broken);
		CHECK(memcmp(pst_image_base(img), want, ARENA) == 0);
		CHECK_EQ(pst_image_close(img, false), 0);
	}
	plat_blk_close(file);
	pst_mut_registry_free(reg);
	free(want);
	fprintf(stderr, "  %llu epochs committed, %llu lost\n",
		(unsigned long long)st.snap.epochs_committed,
		(unsigned long long)st.snap.epochs_lost);
}

int main(void)
{
	check_begin("pst_lost_live_test");
	if (plat_hosted_init() != 0)
		return 1;
	snprintf(path, sizeof path, "/tmp/pst_lost_live.%d.img", (int)getpid());
	RUN(power_cuts_while_mutators_write);
	unlink(path);
	return check_done();
}
