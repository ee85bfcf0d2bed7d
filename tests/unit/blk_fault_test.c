/* blk_fault_test.c — the fault-injecting block device over an in-memory disk:
 * the volatile write cache, countdown failures, torn writes, seeded power
 * cuts, bit flips on read and in storage, truncation, argument checks. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hosted.h"
#include "blk_fault.h"
#include "ram_blk.h"

#define SEC PLAT_SECTOR_SIZE
#define DISK (64 * SEC)

/* The lower device: in memory, counting its flushes. */
static uint8_t disk[DISK];
static struct ram_blk ram;
static struct blkfault *f;
static struct plat_blk *d;

static void setup(void)
{
	memset(disk, 0, sizeof disk);
	ram_blk_init(&ram, disk, DISK);
	f = NULL;
	if (blkfault_wrap(&ram.pub, false, &f) == 0)
		d = blkfault_dev(f);
}

static void fill(uint8_t *b, size_t n, int v) { memset(b, v, n); }

TEST(cache_until_flush)
{
	uint8_t w[2 * SEC], r[2 * SEC];
	setup();
	CHECK(f != NULL);
	CHECK_EQ(d->size, DISK);
	fill(w, sizeof w, 0xab);
	CHECK_EQ(plat_blk_write(d, 4 * SEC, w, sizeof w), 0);
	CHECK_EQ(plat_blk_read(d, 4 * SEC, r, sizeof r), 0);
	CHECK(memcmp(w, r, sizeof w) == 0);          /* reads see the cache */
	CHECK_EQ(ram.data[4 * SEC], 0);              /* the disk does not yet */
	struct blkfault_stats st;
	blkfault_stats(f, &st);
	CHECK_EQ(st.pending, 1);
	CHECK_EQ(plat_blk_flush(d), 0);
	CHECK_EQ(ram.data[4 * SEC], 0xab);
	CHECK_EQ(ram.data[6 * SEC - 1], 0xab);
	CHECK_EQ(ram.flushes, 1);
	blkfault_stats(f, &st);
	CHECK_EQ(st.pending, 0);
	CHECK_EQ(st.writes, 1);
	CHECK_EQ(st.flushes, 1);
	/* A read that straddles cached and stored sectors merges them. */
	fill(w, SEC, 0x11);
	CHECK_EQ(plat_blk_write(d, 5 * SEC, w, SEC), 0);
	CHECK_EQ(plat_blk_read(d, 4 * SEC, r, 2 * SEC), 0);
	CHECK(r[0] == 0xab && r[SEC] == 0x11);
	plat_blk_close(d);                           /* clean close applies */
	CHECK_EQ(ram.data[5 * SEC], 0x11);
}

TEST(fail_write_and_flush)
{
	uint8_t w[SEC];
	setup();
	fill(w, SEC, 1);
	blkfault_fail_write(f, 1);
	CHECK_EQ(plat_blk_write(d, 0, w, SEC), 0);
	CHECK_EQ(plat_blk_write(d, SEC, w, SEC), -ERR_IO);   /* the 2nd write */
	CHECK_EQ(plat_blk_write(d, 2 * SEC, w, SEC), 0);     /* one-shot */
	blkfault_fail_flush(f, 0);
	CHECK_EQ(plat_blk_flush(d), -ERR_IO);
	CHECK_EQ(ram.data[0], 0);                            /* nothing applied */
	CHECK_EQ(plat_blk_flush(d), 0);
	CHECK_EQ(ram.data[0], 1);
	CHECK_EQ(ram.data[SEC], 0);                          /* failed write lost */
	CHECK_EQ(ram.data[2 * SEC], 1);
	plat_blk_close(d);
}

TEST(torn_write)
{
	uint8_t w[4 * SEC];
	setup();
	fill(w, sizeof w, 7);
	blkfault_tear_write(f, 0, 1);
	CHECK_EQ(plat_blk_write(d, 8 * SEC, w, sizeof w), 0);  /* silent */
	CHECK_EQ(plat_blk_flush(d), 0);
	CHECK_EQ(ram.data[8 * SEC], 7);
	CHECK_EQ(ram.data[9 * SEC - 1], 7);
	CHECK_EQ(ram.data[9 * SEC], 0);
	plat_blk_close(d);
}

/* Power is lost at the 3rd op; the cut decides per pending write. Flushed
 * data always survives; the same seed gives the same outcome; over seeds,
 * writes are lost, land whole and land torn. */
static int cut_run(uint64_t seed, uint8_t out[8])
{
	uint8_t w[4 * SEC];
	setup();
	fill(w, sizeof w, 9);
	if (plat_blk_write(d, 0, w, SEC) || plat_blk_flush(d))
		return -1;
	blkfault_cut_at(f, 2);
	for (int i = 0; i < 2; i++)
		if (plat_blk_write(d, (uint64_t)(8 + 8 * i) * SEC, w, sizeof w))
			return -1;
	if (plat_blk_write(d, 32 * SEC, w, SEC) != -ERR_IO ||
	    plat_blk_flush(d) != -ERR_IO || plat_blk_read(d, 0, w, SEC) != -ERR_IO)
		return -2;
	struct blkfault_stats st;
	blkfault_stats(f, &st);
	if (!st.dead || st.pending != 2)
		return -3;
	if (blkfault_power_cut(f, seed) != 0)
		return -4;
	if (ram.data[0] != 9 || ram.data[32 * SEC] != 0)
		return -5;
	for (int i = 0; i < 2; i++)
		for (int s = 0; s < 4; s++)
			out[4 * i + s] = ram.data[(8 + 8 * i + s) * SEC];
	plat_blk_close(d);
	return 0;
}

TEST(power_cut)
{
	uint8_t a[8], b[8];
	int lost = 0, whole = 0, torn = 0;
	for (uint64_t seed = 0; seed < 40; seed++) {
		CHECK_EQ(cut_run(seed, a), 0);
		CHECK_EQ(cut_run(seed, b), 0);
		CHECK(memcmp(a, b, 8) == 0);
		for (int i = 0; i < 2; i++) {
			int n = 0;
			for (int s = 0; s < 4; s++) {
				CHECK(a[4 * i + s] == 0 || a[4 * i + s] == 9);
				n += a[4 * i + s] == 9;
				/* only prefixes land */
				if (s > 0 && a[4 * i + s] == 9)
					CHECK(a[4 * i + s - 1] == 9);
			}
			lost += n == 0;
			whole += n == 4;
			torn += n > 0 && n < 4;
		}
	}
	CHECK(lost > 0 && whole > 0 && torn > 0);
	/* Power is back after the cut. */
	setup();
	blkfault_cut_at(f, 0);
	uint8_t w[SEC] = { 3 };
	CHECK_EQ(plat_blk_write(d, 0, w, SEC), -ERR_IO);
	CHECK_EQ(blkfault_power_cut(f, 1), 0);
	CHECK_EQ(plat_blk_write(d, 0, w, SEC), 0);
	CHECK_EQ(plat_blk_flush(d), 0);
	CHECK_EQ(ram.data[0], 3);
	plat_blk_close(d);
}

TEST(flips)
{
	uint8_t r[SEC];
	setup();
	ram.data[3 * SEC + 10] = 0x0f;
	CHECK_EQ(blkfault_flip_read(f, 3 * SEC + 10, 7), 0);
	CHECK_EQ(plat_blk_read(d, 3 * SEC, r, SEC), 0);
	CHECK_EQ(r[10], 0x8f);
	CHECK_EQ(ram.data[3 * SEC + 10], 0x0f);           /* storage untouched */
	blkfault_clear(f);
	CHECK_EQ(plat_blk_read(d, 3 * SEC, r, SEC), 0);
	CHECK_EQ(r[10], 0x0f);
	CHECK_EQ(blkfault_flip_stored(f, 3 * SEC + 10, 0), 0);
	CHECK_EQ(ram.data[3 * SEC + 10], 0x0e);
	/* A flip in storage also hits a pending write covering it. */
	uint8_t w[SEC];
	fill(w, SEC, 0x20);
	CHECK_EQ(plat_blk_write(d, 5 * SEC, w, SEC), 0);
	CHECK_EQ(blkfault_flip_stored(f, 5 * SEC + 1, 0), 0);
	CHECK_EQ(plat_blk_read(d, 5 * SEC, r, SEC), 0);
	CHECK_EQ(r[1], 0x21);
	CHECK_EQ(r[2], 0x20);
	CHECK_EQ(blkfault_flip_read(f, DISK, 0), -ERR_RANGE);
	CHECK_EQ(blkfault_flip_stored(f, 0, 8), -ERR_RANGE);
	plat_blk_close(d);
}

/* A read may come from another thread while a flush applies the cache
 * (a store lets page-ins run during a commit's flush): every read sees
 * whole writes, never a freed or half-applied buffer. */
static atomic_int writer_done;

static void write_flush_loop(void *arg)
{
	(void)arg;
	uint8_t w[8 * SEC];
	for (int v = 1; v <= 300; v++) {
		fill(w, sizeof w, v);
		for (int k = 0; k < 8; k++)
			if (plat_blk_write(d, (uint64_t)k * SEC, w + k * SEC, SEC) != 0)
				break;
		if (plat_blk_flush(d) != 0)
			break;
	}
	atomic_store(&writer_done, 1);
}

TEST(read_during_flush)
{
	setup();
	atomic_store(&writer_done, 0);
	plat_thread *t;
	CHECK_EQ(plat_thread_create(&t, write_flush_loop, NULL, "bf-writer"), 0);
	uint8_t r[SEC];
	int bad = 0;
	while (!atomic_load(&writer_done) && !bad) {
		for (int k = 0; k < 8 && !bad; k++) {
			if (plat_blk_read(d, (uint64_t)k * SEC, r, SEC) != 0) {
				bad = 1;
				break;
			}
			for (size_t i = 1; i < SEC; i++)
				if (r[i] != r[0])
					bad = 2;
		}
	}
	plat_thread_join(t);
	CHECKF(bad == 0, "a read %s", bad == 1 ? "failed" : "saw a mixed sector");
	CHECK_EQ(ram.data[0], 44);               /* 300 % 256 */
	plat_blk_close(d);
}

TEST(truncate_and_args)
{
	uint8_t w[2 * SEC];
	setup();
	fill(w, sizeof w, 5);
	CHECK_EQ(plat_blk_write(d, 10 * SEC, w, sizeof w), 0);
	CHECK_EQ(blkfault_truncate(f, 11 * SEC + 100), 0);
	CHECK_EQ(d->size, 11 * SEC);
	CHECK_EQ(plat_blk_read(d, 10 * SEC, w, 2 * SEC), -ERR_RANGE);
	CHECK_EQ(plat_blk_write(d, 11 * SEC, w, SEC), -ERR_RANGE);
	CHECK_EQ(plat_blk_flush(d), 0);
	CHECK_EQ(ram.data[10 * SEC], 5);
	CHECK_EQ(ram.data[11 * SEC], 0);                  /* cut off by truncate */
	CHECK_EQ(blkfault_truncate(f, DISK + SEC), -ERR_RANGE);
	CHECK_EQ(plat_blk_write(d, 1, w, SEC), -ERR_INVAL);
	CHECK_EQ(plat_blk_read(d, 0, w, 100), -ERR_INVAL);
	CHECK_EQ(plat_blk_read(d, 0, NULL, SEC), -ERR_INVAL);
	CHECK_EQ(blkfault_wrap(NULL, false, &f), -ERR_INVAL);
	plat_blk_close(d);
}

int main(void)
{
	check_begin("blk_fault_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: blk_fault_test/setup: plat_hosted_init\n");
		return 1;
	}
	RUN(cache_until_flush);
	RUN(fail_write_and_flush);
	RUN(torn_write);
	RUN(power_cut);
	RUN(flips);
	RUN(truncate_and_args);
	RUN(read_during_flush);
	return check_done();
}
