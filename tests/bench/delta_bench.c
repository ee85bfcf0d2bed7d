/* delta_bench.c — benchmark part "delta": size and speed of the delta codec
 * (persist/delta_*.c) for each encoding and zstd level, on an object-heap
 * mutation pattern, on freshly allocated pages and on random pages. Peer:
 * plain zstd of the raw dirty pages, what would be shipped without a base. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "bench_report.h"
#include "err.h"
#include "plat.h"
#include "../../persist/delta.h"

#define PG PLAT_PAGE_SIZE
#define NPAGES 4096          /* 16 MiB modelled heap                       */
#define DIRTY 1024           /* pages dirtied per epoch                    */
#define EPOCHS 8
#define ARENA_SPAN (1ull << 30)

static uint64_t rng_s;
static uint64_t rnd(void)
{
	uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static uint64_t rndn(uint64_t n) { return rnd() % n; }

static uint8_t *heap, *committed, *replica;   /* NPAGES pages each */
static uint32_t fill[NPAGES];                 /* bump pointer per page */
static uint64_t dirty[DIRTY];

static uint8_t *page(uint8_t *img, uint64_t pgno) { return img + pgno * PG; }

static uint64_t arena_ptr(void) { return PLAT_ARENA_BASE + 16 * rndn(ARENA_SPAN / 16); }

/* One object: class pointer, header word (size, GC bits, hash), then fields:
 * mostly pointers into the 1 GiB arena, some tagged small integers, some nil. */
static void put_object(uint8_t *p, uint32_t *at)
{
	uint32_t sz = 16 + 8 * (uint32_t)rndn(7);
	if (*at + sz > PG)
		return;
	uint64_t w[8];
	w[0] = PLAT_ARENA_BASE + 0x10000 + 64 * rndn(48);
	w[1] = (uint64_t)sz | (rndn(1u << 20) << 32);
	for (uint32_t i = 2; i < sz / 8; i++) {
		int k = (int)rndn(10);
		w[i] = k < 6 ? arena_ptr() : k < 9 ? (rndn(5000) << 1 | 1) : 0;
	}
	memcpy(p + *at, w, sz);
	*at += sz;
}

/* A mutator's epoch on one page: a few field stores, sometimes a few
 * allocations into the page's free tail. */
static void mutate(uint64_t pgno)
{
	uint8_t *p = page(heap, pgno);
	int stores = 1 + (int)rndn(4);
	for (int i = 0; i < stores && fill[pgno] >= 16; i++) {
		uint64_t v = rndn(3) ? arena_ptr() : (rndn(5000) << 1 | 1);
		size_t at = 16 + 8 * rndn((fill[pgno] - 16) / 8);
		memcpy(p + at, &v, 8);
	}
	if (rndn(3) == 0) {
		int n = 1 + (int)rndn(3);
		for (int i = 0; i < n; i++)
			put_object(p, &fill[pgno]);
	}
}

enum workload { W_HEAP, W_FRESH, W_RANDOM };
static const char *wl_name[] = { "heap", "fresh", "random" };

static void init_heap(enum workload wl)
{
	rng_s = 12345;
	for (uint64_t pg = 0; pg < NPAGES; pg++) {
		uint8_t *p = page(heap, pg);
		memset(p, 0, PG);
		fill[pg] = 0;
		if (wl == W_FRESH)
			continue;
		if (wl == W_RANDOM) {
			for (size_t i = 0; i < PG; i += 8) {
				uint64_t v = rnd();
				memcpy(p + i, &v, 8);
			}
			continue;
		}
		uint32_t target = (uint32_t)(PG * (40 + rndn(50)) / 100);
		while (fill[pg] + 64 <= target)
			put_object(p, &fill[pg]);
	}
	memcpy(committed, heap, (size_t)NPAGES * PG);
	memcpy(replica, heap, (size_t)NPAGES * PG);
}

/* Dirty DIRTY distinct pages as the workload says. */
static void run_epoch(enum workload wl, int epoch)
{
	for (int i = 0; i < DIRTY; i++) {
		uint64_t pg = wl == W_FRESH ? (uint64_t)epoch * DIRTY + (uint64_t)i
					    : (uint64_t)i * (NPAGES / DIRTY) + rndn(NPAGES / DIRTY);
		pg %= NPAGES;
		dirty[i] = pg;
		uint8_t *p = page(heap, pg);
		if (wl == W_RANDOM) {
			for (size_t k = 0; k < PG; k += 8) {
				uint64_t v = rnd();
				memcpy(p + k, &v, 8);
			}
		} else if (wl == W_FRESH) {
			if (fill[pg]) {
				/* Wrapped around: the page was dropped as unused
				 * in an earlier epoch, so its base is zero again. */
				memset(p, 0, PG);
				memset(page(committed, pg), 0, PG);
				memset(page(replica, pg), 0, PG);
				fill[pg] = 0;
			}
			while (fill[pg] + 64 <= PG)
				put_object(p, &fill[pg]);
		} else {
			mutate(pg);
		}
	}
}

static int rd(void *ctx, uint64_t pgno, void *buf) { memcpy(buf, page(ctx, pgno), PG); return 0; }
static int wr(void *ctx, uint64_t pgno, const void *buf) { memcpy(page(ctx, pgno), buf, PG); return 0; }
static int dr(void *ctx, uint64_t pgno) { memset(page(ctx, pgno), 0, PG); return 0; }

struct result {
	double ratio, bytes_per_page, enc_mbps, apply_mbps;   /* ours */
	double p_ratio, p_enc_mbps, p_dec_mbps;                /* plain zstd peer */
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "delta_bench: %s: %s\n", what, err_str(rc));
	exit(1);
}

static struct result measure(enum workload wl, enum pst_delta_enc mode, int level)
{
	struct pst_delta_writer *w;
	int rc = pst_delta_writer_new(&w);
	if (rc || (rc = pst_delta_writer_set_mode(w, mode, level)))
		die("writer", rc);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	size_t cap = ZSTD_compressBound((size_t)DIRTY * PG);
	uint8_t *raw = malloc((size_t)DIRTY * PG), *z = malloc(cap), *back = malloc((size_t)DIRTY * PG);
	if (!cc || !dc || !raw || !z || !back)
		die("alloc", -ERR_NOMEM);

	init_heap(wl);
	uint64_t t_enc = 0, t_app = 0, t_penc = 0, t_pdec = 0, dbytes = 0, pbytes = 0, raw_bytes = 0;
	for (int e = 1; e <= EPOCHS; e++) {
		run_epoch(wl, e);
		/* ours: encode against the committed versions, then apply to a replica */
		uint64_t t0 = bench_now_ns();
		if ((rc = pst_delta_begin(w, (uint64_t)e, (uint64_t)e - 1)))
			die("begin", rc);
		for (int i = 0; i < DIRTY; i++) {
			const uint8_t *base = page(committed, dirty[i]);
			if ((rc = pst_delta_add_page(w, dirty[i], base, page(heap, dirty[i]))))
				die("add_page", rc);
		}
		const void *b;
		size_t len;
		if ((rc = pst_delta_finish(w, &b, &len)))
			die("finish", rc);
		uint64_t t1 = bench_now_ns();
		struct pst_delta_target t = { replica, (uint64_t)e - 1, rd, wr, dr };
		if ((rc = pst_delta_apply(b, len, &t)))
			die("apply", rc);
		uint64_t t2 = bench_now_ns();
		t_enc += t1 - t0;
		t_app += t2 - t1;
		dbytes += len;
		raw_bytes += (uint64_t)DIRTY * PG;

		/* peer: plain zstd of the concatenated dirty pages, same level */
		for (int i = 0; i < DIRTY; i++)
			memcpy(raw + (size_t)i * PG, page(heap, dirty[i]), PG);
		t0 = bench_now_ns();
		size_t zn = ZSTD_compressCCtx(cc, z, cap, raw, (size_t)DIRTY * PG, level);
		t1 = bench_now_ns();
		size_t dn = ZSTD_decompressDCtx(dc, back, (size_t)DIRTY * PG, z, zn);
		t2 = bench_now_ns();
		if (ZSTD_isError(zn) || ZSTD_isError(dn) || dn != (size_t)DIRTY * PG)
			die("peer zstd", -ERR_CORRUPT);
		t_penc += t1 - t0;
		t_pdec += t2 - t1;
		pbytes += zn;

		for (int i = 0; i < DIRTY; i++)
			memcpy(page(committed, dirty[i]), page(heap, dirty[i]), PG);
	}
	if (memcmp(replica, heap, (size_t)NPAGES * PG) != 0)
		die("replica differs from the heap", -ERR_CORRUPT);

	struct result r;
	double mb = (double)raw_bytes / 1e6;
	r.ratio = (double)dbytes / (double)raw_bytes;
	r.bytes_per_page = (double)dbytes / (EPOCHS * DIRTY);
	r.enc_mbps = mb / ((double)t_enc / 1e9);
	r.apply_mbps = mb / ((double)t_app / 1e9);
	r.p_ratio = (double)pbytes / (double)raw_bytes;
	r.p_enc_mbps = mb / ((double)t_penc / 1e9);
	r.p_dec_mbps = mb / ((double)t_pdec / 1e9);
	free(raw);
	free(z);
	free(back);
	ZSTD_freeCCtx(cc);
	ZSTD_freeDCtx(dc);
	pst_delta_writer_free(w);
	return r;
}

int main(void)
{
	static const char *mode_name[] = { "xor", "prefix", "best" };
	/* Picks libsodium's fastest BLAKE2b for this CPU, as a node's startup
	 * does; without it the portable reference code runs. */
	if (sodium_init() < 0)
		die("sodium_init", -ERR_INVAL);
	heap = malloc((size_t)NPAGES * PG);
	committed = malloc((size_t)NPAGES * PG);
	replica = malloc((size_t)NPAGES * PG);
	if (!heap || !committed || !replica)
		die("alloc", -ERR_NOMEM);
	bench_begin("delta", "build/bench");
	static const int levels[] = { 1, 3 };
	for (int wl = 0; wl < 3; wl++)
		for (int li = 0; li < 2; li++)
			for (int m = 0; m < 3; m++) {
				int level = levels[li];
				if (wl != W_HEAP && level != 1)
					continue;
				struct result r = measure((enum workload)wl, (enum pst_delta_enc)m, level);
				char name[96], peer[64];
				snprintf(peer, sizeof peer, "zstd-raw-L%d", level);
				snprintf(name, sizeof name, "%s.L%d.%s.size_ratio", wl_name[wl], level, mode_name[m]);
				bench_metric_peer(name, r.ratio, "x", peer, r.p_ratio);
				snprintf(name, sizeof name, "%s.L%d.%s.bytes_per_page", wl_name[wl], level, mode_name[m]);
				bench_metric_peer(name, r.bytes_per_page, "B", peer, r.p_ratio * PG);
				snprintf(name, sizeof name, "%s.L%d.%s.encode", wl_name[wl], level, mode_name[m]);
				bench_metric_peer(name, r.enc_mbps, "MB/s", peer, r.p_enc_mbps);
				snprintf(name, sizeof name, "%s.L%d.%s.apply", wl_name[wl], level, mode_name[m]);
				bench_metric_peer(name, r.apply_mbps, "MB/s", peer, r.p_dec_mbps);
			}
	free(heap);
	free(committed);
	free(replica);
	return bench_finish() ? 1 : 0;
}
