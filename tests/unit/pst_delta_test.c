/* pst_delta_test.c — the delta codec (persist/delta_*.c): seeded round-trip
 * properties over many page shapes and every encoding mode, refusal of wrong
 * bases before any write, and rejection of damaged or hostile bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "err.h"
#include "plat.h"
#include "../../persist/delta.h"
#include "../../persist/delta_format.h"

#define PG PLAT_PAGE_SIZE
#define IMG_MAX 512

/* ---- seeded PRNG (splitmix64) ---------------------------------------- */

static uint64_t rng_s;
static uint64_t rnd(void)
{
	uint64_t z = (rng_s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static uint64_t rndn(uint64_t n) { return rnd() % n; }

/* ---- an in-memory image: pgno -> page, absent pages read as zero ---------- */

struct image {
	uint64_t epoch;
	size_t n;
	uint64_t pgno[IMG_MAX];
	uint8_t *page[IMG_MAX];
	unsigned writes, drops;      /* callback counts, to prove "untouched" */
	int fail_read_at;            /* >0: the n-th read fails (fault seam)  */
	unsigned reads;
};

static long img_find(const struct image *im, uint64_t pgno)
{
	for (size_t i = 0; i < im->n; i++)
		if (im->pgno[i] == pgno)
			return (long)i;
	return -1;
}

static const uint8_t zeros[PG];

static const uint8_t *img_get(const struct image *im, uint64_t pgno)
{
	long i = img_find(im, pgno);
	return i < 0 ? NULL : im->page[i];
}

static void img_put(struct image *im, uint64_t pgno, const void *buf)
{
	long i = img_find(im, pgno);
	if (i < 0) {
		if (im->n == IMG_MAX)
			abort();
		i = (long)im->n++;
		im->pgno[i] = pgno;
		im->page[i] = malloc(PG);
	}
	memcpy(im->page[i], buf, PG);
}

static void img_drop(struct image *im, uint64_t pgno)
{
	long i = img_find(im, pgno);
	if (i < 0)
		return;
	free(im->page[i]);
	im->n--;
	im->pgno[i] = im->pgno[im->n];
	im->page[i] = im->page[im->n];
}

static void img_clear(struct image *im)
{
	for (size_t i = 0; i < im->n; i++)
		free(im->page[i]);
	memset(im, 0, sizeof *im);
}

static void img_copy(struct image *dst, const struct image *src)
{
	img_clear(dst);
	dst->epoch = src->epoch;
	for (size_t i = 0; i < src->n; i++)
		img_put(dst, src->pgno[i], src->page[i]);
}

/* Same contents: every page of either reads the same in both. */
static int img_equal(const struct image *a, const struct image *b)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct image *x = pass ? b : a, *y = pass ? a : b;
		for (size_t i = 0; i < x->n; i++) {
			const uint8_t *p = img_get(y, x->pgno[i]);
			if (memcmp(x->page[i], p ? p : zeros, PG) != 0)
				return 0;
		}
	}
	return 1;
}

static int cb_read(void *ctx, uint64_t pgno, void *buf)
{
	struct image *im = ctx;
	im->reads++;
	if (im->fail_read_at && (int)im->reads == im->fail_read_at)
		return -ERR_IO;
	const uint8_t *p = img_get(im, pgno);
	memcpy(buf, p ? p : zeros, PG);
	return 0;
}
static int cb_write(void *ctx, uint64_t pgno, const void *buf)
{
	struct image *im = ctx;
	im->writes++;
	img_put(im, pgno, buf);
	return 0;
}
static int cb_drop(void *ctx, uint64_t pgno)
{
	struct image *im = ctx;
	im->drops++;
	img_drop(im, pgno);
	return 0;
}

static struct pst_delta_target target_of(struct image *im)
{
	struct pst_delta_target t = { im, im->epoch, cb_read, cb_write, cb_drop };
	return t;
}

/* ---- page shapes --------------------------------------------------------- */

/* A page of an object heap: objects of 16-64 bytes, each a header word
 * (class pointer) and a size word, then pointers into the arena and small
 * tagged integers. */
static void heap_page(uint8_t *p)
{
	memset(p, 0, PG);
	size_t at = 0, fill = 1024 + rndn(PG - 1024);
	while (at + 64 <= fill) {
		size_t sz = 16 + 8 * rndn(7);
		uint64_t w[8];
		w[0] = PLAT_ARENA_BASE + 0x1000 + 64 * rndn(32);   /* class */
		w[1] = sz;
		for (size_t i = 2; i < sz / 8; i++)
			w[i] = rndn(3) ? PLAT_ARENA_BASE + 16 * rndn(1u << 26)
				       : (rndn(1000) << 1 | 1);
		memcpy(p + at, w, sz);
		at += sz;
	}
}

/* A typical mutation: a few fields overwritten, maybe a small allocation. */
static void mutate(uint8_t *p)
{
	int n = 1 + (int)rndn(6);
	for (int i = 0; i < n; i++) {
		uint64_t v = rndn(2) ? PLAT_ARENA_BASE + 16 * rndn(1u << 26) : rnd();
		memcpy(p + 8 * rndn(PG / 8), &v, 8);
	}
	if (rndn(3) == 0) {
		size_t at = 8 * rndn(PG / 8 - 8);
		for (int i = 0; i < 4; i++) {
			uint64_t v = PLAT_ARENA_BASE + 16 * rndn(1u << 26);
			memcpy(p + at + 8 * i, &v, 8);
		}
	}
}

static void random_page(uint8_t *p)
{
	for (size_t i = 0; i < PG; i += 8) {
		uint64_t v = rnd();
		memcpy(p + i, &v, 8);
	}
}

enum shape { S_RANDOM, S_SPARSE, S_ZERO, S_SAME, S_HEAP_NEW, S_UNUSED, S_ONEBYTE, S_NSHAPES };

/* Make page `pgno` of `next` from `base` with the given shape and add it to
 * the writer; returns the writer's result. */
static int add_shape(struct pst_delta_writer *w, struct image *next, const struct image *base,
		     uint64_t pgno, enum shape s)
{
	static uint8_t np[PG];
	const uint8_t *bp = img_get(base, pgno);
	switch (s) {
	case S_UNUSED:
		img_drop(next, pgno);
		return pst_delta_add_unused(w, pgno);
	case S_RANDOM:
		random_page(np);
		break;
	case S_SPARSE:
		if (bp)
			memcpy(np, bp, PG);
		else
			heap_page(np);
		mutate(np);
		break;
	case S_ZERO:
		memset(np, 0, PG);
		break;
	case S_SAME:
		memcpy(np, bp ? bp : zeros, PG);
		break;
	case S_HEAP_NEW:
		heap_page(np);
		break;
	case S_ONEBYTE:
		memcpy(np, bp ? bp : zeros, PG);
		np[rndn(PG)] ^= (uint8_t)(1 + rndn(255));
		break;
	default:
		abort();
	}
	img_put(next, pgno, np);
	return pst_delta_add_page(w, pgno, bp, np);
}

/* A random base image of up to `npg` pages over a sparse page range. */
static void random_image(struct image *im, uint64_t epoch, int npg)
{
	img_clear(im);
	im->epoch = epoch;
	for (int i = 0; i < npg; i++) {
		static uint8_t p[PG];
		uint64_t pgno = rndn(4) ? rndn(600) : rndn(PST_DELTA_MAX_PAGES);
		if (rndn(4) == 0)
			random_page(p);
		else
			heap_page(p);
		img_put(im, pgno, p);
	}
}

/* Build a delta from `base` to a new image `next` touching up to npg pages
 * (a mix of base pages and fresh ones) in random order. */
static int random_delta(struct pst_delta_writer *w, const struct image *base, struct image *next,
			int npg, const void **bytes, size_t *len)
{
	img_copy(next, base);
	next->epoch = base->epoch + 1 + rndn(3);
	int rc = pst_delta_begin(w, next->epoch, base->epoch);
	if (rc)
		return rc;
	uint64_t used[64];
	int nused = 0;
	for (int i = 0; i < npg && nused < 64; i++) {
		uint64_t pgno = (base->n && rndn(3)) ? base->pgno[rndn(base->n)] : rndn(700);
		int dup = 0;
		for (int j = 0; j < nused; j++)
			dup |= used[j] == pgno;
		if (dup)
			continue;
		used[nused++] = pgno;
		if ((rc = add_shape(w, next, base, pgno, (enum shape)rndn(S_NSHAPES))) != 0)
			return rc;
	}
	return pst_delta_finish(w, bytes, len);
}

/* ---- tests --------------------------------------------------------------- */

static struct image base_, next_, work_, orig_;

/* Apply must turn the base image into exactly the new one, in every mode. */
TEST(roundtrip_random)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	rng_s = 1;
	for (int c = 0; c < 600; c++) {
		enum pst_delta_enc mode = (enum pst_delta_enc)(c % 3);
		CHECK_EQ(pst_delta_writer_set_mode(w, mode, c % 5 == 4 ? 3 : 1), 0);
		random_image(&base_, 10 + rndn(1000), (int)rndn(40));
		const void *b;
		size_t len;
		CHECKF(random_delta(w, &base_, &next_, (int)rndn(24), &b, &len) == 0, "case %d", c);
		struct pst_delta_info info;
		CHECK_EQ(pst_delta_verify(b, len, &info), 0);
		CHECK_EQ(info.epoch, next_.epoch);
		CHECK_EQ(info.base_epoch, base_.epoch);
		CHECK_EQ(info.raw_bytes, (uint64_t)info.npages * PG);
		img_copy(&work_, &base_);
		struct pst_delta_target t = target_of(&work_);
		CHECKF(pst_delta_apply(b, len, &t) == 0, "case %d", c);
		CHECKF(img_equal(&work_, &next_), "case %d mode %d: image differs", c, mode);
		CHECK_EQ(work_.writes + work_.drops <= info.npages + info.nunused, 1);
	}
	pst_delta_writer_free(w);
}

/* A page whose change is k random bytes compresses to about k bytes: as k
 * runs up to a whole page, its encoding crosses from zstd (payload at most
 * 4095 bytes) to LITERAL (4096). Every page on either side of that line
 * round-trips and verifies, in every mode, and both sides are reached. A one-page
 * delta's payload is its length less that of a delta whose page is SAME. */
TEST(compression_boundary_roundtrips)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	rng_s = 7;
	static uint8_t basepg[PG], np[PG];
	random_page(basepg);
	const void *b;
	size_t len, overhead;
	img_clear(&base_);
	base_.epoch = 5;
	img_put(&base_, 3, basepg);
	CHECK_EQ(pst_delta_begin(w, 6, 5), 0);
	CHECK_EQ(pst_delta_add_page(w, 3, basepg, basepg), 0);
	CHECK_EQ(pst_delta_finish(w, &b, &overhead), 0);
	for (int mode = 0; mode < 3 && !check_failed_now_; mode++) {
		CHECK_EQ(pst_delta_writer_set_mode(w, (enum pst_delta_enc)mode, 1), 0);
		unsigned literal = 0, zstd = 0, zstd_near = 0;
		for (size_t k = 3840; k <= PG && !check_failed_now_; k++) {
			memcpy(np, basepg, PG);
			for (size_t i = 0; i < k; i++)
				np[i] = (uint8_t)rnd();
			np[0] = (uint8_t)~basepg[0];            /* never SAME */
			CHECK_EQ(pst_delta_begin(w, 6, 5), 0);
			CHECK_EQ(pst_delta_add_page(w, 3, basepg, np), 0);
			CHECK_EQ(pst_delta_finish(w, &b, &len), 0);
			size_t payload = len - overhead;
			CHECKF(payload > 0 && payload <= PG, "k %zu: payload %zu", k, payload);
			literal += payload == PG;
			zstd += payload < PG;
			zstd_near += payload >= PG - 64 && payload < PG;
			CHECK_EQ(pst_delta_verify(b, len, NULL), 0);
			img_copy(&work_, &base_);
			struct pst_delta_target t = target_of(&work_);
			CHECKF(pst_delta_apply(b, len, &t) == 0, "mode %d k %zu", mode, k);
			CHECKF(memcmp(img_get(&work_, 3), np, PG) == 0,
			       "mode %d k %zu: the page differs", mode, k);
		}
		/* zstd keeps a block raw unless it saves ~66 bytes, so only XOR
		 * (a run of zeros) gets frames right under a page. */
		CHECKF(literal > 0 && zstd > 0 && (mode != PST_DELTA_ENC_XOR ||
		       zstd_near > 0), "mode %d: %u literal, %u zstd (%u within "
		       "64 bytes of a page)", mode, literal, zstd, zstd_near);
	}
	pst_delta_writer_free(w);
}

/* Ten epochs in a row, each delta made against the previous image. */
TEST(chain_of_epochs)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	rng_s = 2;
	random_image(&base_, 1, 60);
	img_copy(&work_, &base_);
	for (int e = 0; e < 10; e++) {
		const void *b;
		size_t len;
		CHECK_EQ(random_delta(w, &base_, &next_, 30, &b, &len), 0);
		struct pst_delta_target t = target_of(&work_);
		CHECK_EQ(pst_delta_apply(b, len, &t), 0);
		work_.epoch = next_.epoch;
		CHECK(img_equal(&work_, &next_));
		img_copy(&base_, &next_);
	}
	pst_delta_writer_free(w);
}

/* Exact sizes: an unchanged page costs one record header; a random page is
 * stored raw; a sparse edit compresses to a small fraction of a page. */
TEST(encoding_costs)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	static uint8_t a[PG], bpg[PG];
	const void *b;
	size_t len, empty = PST_DELTA_HDR_LEN + PST_DELTA_SUM_LEN;
	rng_s = 3;
	heap_page(a);

	CHECK_EQ(pst_delta_begin(w, 2, 1), 0);
	CHECK_EQ(pst_delta_add_page(w, 7, a, a), 0);
	CHECK_EQ(pst_delta_finish(w, &b, &len), 0);
	CHECK_EQ(len, empty + PST_DELTA_REC_LEN);

	CHECK_EQ(pst_delta_begin(w, 2, 1), 0);
	CHECK_EQ(pst_delta_add_unused(w, 7), 0);
	CHECK_EQ(pst_delta_add_page(w, 8, a, zeros), 0);
	CHECK_EQ(pst_delta_add_page(w, 9, NULL, zeros), 0);
	CHECK_EQ(pst_delta_finish(w, &b, &len), 0);
	CHECK_EQ(len, empty + 3 * PST_DELTA_REC_LEN);

	random_page(bpg);
	CHECK_EQ(pst_delta_begin(w, 2, 1), 0);
	CHECK_EQ(pst_delta_add_page(w, 7, a, bpg), 0);
	CHECK_EQ(pst_delta_finish(w, &b, &len), 0);
	CHECK_EQ(len, empty + PST_DELTA_REC_LEN + PG);

	for (int m = 0; m < 3; m++) {
		CHECK_EQ(pst_delta_writer_set_mode(w, (enum pst_delta_enc)m, 1), 0);
		memcpy(bpg, a, PG);
		uint64_t v = PLAT_ARENA_BASE + 0x123450;
		memcpy(bpg + 800, &v, 8);
		memcpy(bpg + 2400, &v, 8);
		CHECK_EQ(pst_delta_begin(w, 2, 1), 0);
		CHECK_EQ(pst_delta_add_page(w, 7, a, bpg), 0);
		CHECK_EQ(pst_delta_finish(w, &b, &len), 0);
		CHECKF(len < empty + PST_DELTA_REC_LEN + 64, "mode %d: %zu bytes for two words", m, len);
	}
	pst_delta_writer_free(w);
}

/* The base hash is XXH64 (seed 0) of the page, little-endian: pinned
 * values (zstd's XXH64 gives the reference answers, ef46db3751d8e999 for
 * "" and 44bc2cf5ad770999 for "abc"), and one changed byte anywhere
 * changes it. */
TEST(base_hash_is_xxh64_of_the_page)
{
	static uint8_t p[PG];
	uint8_t got[PST_DELTA_BHASH_LEN], ref[PST_DELTA_BHASH_LEN];
	memset(p, 0, PG);
	CHECK_EQ(pst_page_hash(p), 0xac869b6f32d8bbdbull);
	CHECK_EQ(PST_PAGE_ZERO_HASH, 0xac869b6f32d8bbdbull);
	pst_delta_base_hash(p, got);
	static const uint8_t zero_le[8] = { 0xdb, 0xbb, 0xd8, 0x32, 0x6f, 0x9b, 0x86, 0xac };
	CHECK(memcmp(got, zero_le, 8) == 0);
	for (size_t i = 0; i < PG; i++)
		p[i] = (uint8_t)(i * 131 + 7);
	CHECK_EQ(pst_page_hash(p), 0xcf05adf75aca30cfull);
	pst_delta_base_hash(p, ref);
	for (size_t i = 0; i < PG; i += 509) {
		p[i] ^= 0x10;
		pst_delta_base_hash(p, got);
		CHECK(memcmp(got, ref, PST_DELTA_BHASH_LEN) != 0);
		p[i] ^= 0x10;
	}
	memset(p, 0, PG);
	p[PG - 1] = 0x80;
	CHECK(!pst_delta_page_is_zero(p));
}

/* The same input gives the same bytes, from a fresh or a reused writer, and
 * whatever order the pages were added in. */
TEST(deterministic_bytes)
{
	struct pst_delta_writer *w1, *w2;
	CHECK_EQ(pst_delta_writer_new(&w1), 0);
	CHECK_EQ(pst_delta_writer_new(&w2), 0);
	static uint8_t pages[8][PG], bases[8][PG];
	rng_s = 4;
	for (int i = 0; i < 8; i++) {
		heap_page(bases[i]);
		memcpy(pages[i], bases[i], PG);
		mutate(pages[i]);
	}
	const void *b1, *b2;
	size_t l1, l2;
	CHECK_EQ(pst_delta_begin(w1, 9, 8), 0);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(pst_delta_add_page(w1, (uint64_t)i * 3, bases[i], pages[i]), 0);
	CHECK_EQ(pst_delta_finish(w1, &b1, &l1), 0);
	CHECK_EQ(pst_delta_begin(w2, 5, 4), 0);   /* reuse: an earlier delta first */
	CHECK_EQ(pst_delta_add_unused(w2, 1), 0);
	CHECK_EQ(pst_delta_finish(w2, &b2, &l2), 0);
	CHECK_EQ(pst_delta_begin(w2, 9, 8), 0);
	for (int i = 7; i >= 0; i--)
		CHECK_EQ(pst_delta_add_page(w2, (uint64_t)i * 3, bases[i], pages[i]), 0);
	CHECK_EQ(pst_delta_finish(w2, &b2, &l2), 0);
	CHECK_EQ(l1, l2);
	CHECK(memcmp(b1, b2, l1) == 0);
	pst_delta_writer_free(w1);
	pst_delta_writer_free(w2);
}

TEST(writer_misuse)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	static uint8_t p[PG];
	const void *b;
	size_t len;
	CHECK_EQ(pst_delta_add_page(w, 1, NULL, p), -ERR_INVAL);      /* before begin */
	CHECK_EQ(pst_delta_finish(w, &b, &len), -ERR_INVAL);
	CHECK_EQ(pst_delta_begin(w, 3, 3), -ERR_INVAL);               /* epoch must advance */
	CHECK_EQ(pst_delta_begin(w, 3, 4), -ERR_INVAL);
	CHECK_EQ(pst_delta_writer_set_mode(w, (enum pst_delta_enc)7, 1), -ERR_INVAL);
	CHECK_EQ(pst_delta_begin(w, 4, 3), 0);
	CHECK_EQ(pst_delta_writer_set_mode(w, PST_DELTA_ENC_XOR, 1), -ERR_INVAL); /* mid-delta */
	CHECK_EQ(pst_delta_add_page(w, PST_DELTA_MAX_PAGES, NULL, p), -ERR_INVAL);
	CHECK_EQ(pst_delta_add_unused(w, PST_DELTA_MAX_PAGES), -ERR_INVAL);
	CHECK_EQ(pst_delta_add_page(w, 5, NULL, p), 0);
	CHECK_EQ(pst_delta_add_page(w, 2, NULL, p), 0);
	CHECK_EQ(pst_delta_add_unused(w, 5), 0);                      /* repeat of 5 */
	CHECK_EQ(pst_delta_finish(w, &b, &len), -ERR_INVAL);
	CHECK_EQ(pst_delta_begin(w, 4, 3), 0);
	CHECK_EQ(pst_delta_add_page(w, 5, NULL, p), 0);
	CHECK_EQ(pst_delta_finish(w, &b, &len), 0);
	CHECK_EQ(pst_delta_add_page(w, 6, NULL, p), -ERR_INVAL);     /* after finish */
	pst_delta_writer_free(w);
}

/* A delta made against base_ goes to work_; returns its bytes (writer-owned). */
static int make_small_delta(struct pst_delta_writer *w, const void **b, size_t *len)
{
	static uint8_t p[PG];
	random_image(&base_, 41, 0);
	for (uint64_t pg = 1; pg <= 4; pg++) {
		heap_page(p);
		img_put(&base_, pg * 10, p);
	}
	img_copy(&next_, &base_);
	int rc = pst_delta_begin(w, 42, 41);
	for (uint64_t pg = 1; pg <= 4 && !rc; pg++)
		rc = add_shape(w, &next_, &base_, pg * 10, pg == 4 ? S_UNUSED : S_SPARSE);
	if (!rc)
		rc = add_shape(w, &next_, &base_, 50, S_SAME);
	if (!rc)
		rc = add_shape(w, &next_, &base_, 60, S_ZERO);
	return rc ? rc : pst_delta_finish(w, b, len);
}

/* Apply is refused with `want` and leaves the image exactly as it was. */
static int refused_untouched(const void *b, size_t len, int want)
{
	img_copy(&work_, &base_);
	struct pst_delta_target t = target_of(&work_);
	if (pst_delta_apply(b, len, &t) != want)
		return 0;
	return work_.writes == 0 && work_.drops == 0 && img_equal(&work_, &base_);
}

TEST(wrong_base_epoch_refused)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	const void *b;
	size_t len;
	rng_s = 5;
	CHECK_EQ(make_small_delta(w, &b, &len), 0);
	img_copy(&work_, &base_);
	for (uint64_t e = 39; e <= 43; e++) {
		if (e == 41)
			continue;
		img_copy(&work_, &base_);
		work_.epoch = e;
		struct pst_delta_target t = target_of(&work_);
		CHECK_EQ(pst_delta_apply(b, len, &t), -ERR_INVAL);
		CHECK_EQ(work_.writes + work_.drops, 0);
		CHECK(img_equal(&work_, &base_));
	}
	img_copy(&work_, &base_);                 /* the right base applies */
	struct pst_delta_target t = target_of(&work_);
	CHECK_EQ(pst_delta_apply(b, len, &t), 0);
	CHECK(img_equal(&work_, &next_));
	pst_delta_writer_free(w);
}

/* Right epoch, wrong contents in any one page the delta touches (including
 * the last record, so a one-pass apply would already have written): refused
 * before any write. Pages the delta does not touch do not matter. */
TEST(wrong_base_content_refused)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	const void *b;
	size_t len;
	rng_s = 6;
	CHECK_EQ(make_small_delta(w, &b, &len), 0);
	static const uint64_t touched[] = { 10, 20, 30, 50, 60 };
	for (size_t i = 0; i < sizeof touched / sizeof touched[0]; i++) {
		img_copy(&orig_, &base_);
		uint8_t p[PG];
		const uint8_t *bp = img_get(&base_, touched[i]);
		memcpy(p, bp ? bp : zeros, PG);
		p[rndn(PG)] ^= 0x10;
		img_put(&base_, touched[i], p);
		CHECKF(refused_untouched(b, len, -ERR_INVAL), "page %llu", (unsigned long long)touched[i]);
		img_copy(&base_, &orig_);
	}
	/* The dropped page (40) and an untouched one (99) may differ. */
	static uint8_t p[PG];
	random_page(p);
	img_put(&base_, 40, p);
	img_put(&base_, 99, p);
	img_put(&next_, 99, p);
	img_copy(&work_, &base_);
	struct pst_delta_target t = target_of(&work_);
	CHECK_EQ(pst_delta_apply(b, len, &t), 0);
	CHECK(img_equal(&work_, &next_));
	pst_delta_writer_free(w);
}

/* More zstd records than apply keeps decoded from its check pass (256):
 * the rest are decoded again in the write pass, from the same bases. */
TEST(large_delta)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	static uint8_t p[PG];
	rng_s = 12;
	for (int m = 0; m < 3; m++) {
		CHECK_EQ(pst_delta_writer_set_mode(w, (enum pst_delta_enc)m, 1), 0);
		random_image(&base_, 70, 0);
		for (uint64_t pg = 0; pg < 400; pg++) {
			heap_page(p);
			img_put(&base_, pg, p);
		}
		img_copy(&next_, &base_);
		CHECK_EQ(pst_delta_begin(w, 71, 70), 0);
		for (uint64_t pg = 0; pg < 400; pg++)
			CHECK_EQ(add_shape(w, &next_, &base_, pg, pg % 50 == 7 ? S_HEAP_NEW : S_SPARSE), 0);
		const void *b;
		size_t len;
		CHECK_EQ(pst_delta_finish(w, &b, &len), 0);
		img_copy(&work_, &base_);
		struct pst_delta_target t = target_of(&work_);
		CHECK_EQ(pst_delta_apply(b, len, &t), 0);
		CHECK_EQ(work_.writes, 400);
		CHECK(img_equal(&work_, &next_));
		/* A wrong base in the last page is still refused before any write. */
		memcpy(p, img_get(&base_, 399), PG);
		p[5] ^= 1;
		img_put(&base_, 399, p);
		CHECK(refused_untouched(b, len, -ERR_INVAL));
	}
	pst_delta_writer_free(w);
}

/* A failing read during the check pass aborts before any write. */
TEST(target_read_error_before_write)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	const void *b;
	size_t len;
	rng_s = 7;
	CHECK_EQ(make_small_delta(w, &b, &len), 0);
	for (int k = 1; k <= 5; k++) {
		img_copy(&work_, &base_);
		work_.fail_read_at = k;
		struct pst_delta_target t = target_of(&work_);
		CHECK_EQ(pst_delta_apply(b, len, &t), -ERR_IO);
		CHECK_EQ(work_.writes + work_.drops, 0);
	}
	pst_delta_writer_free(w);
}

TEST(every_bit_flip_rejected)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	const void *b;
	size_t len;
	rng_s = 8;
	CHECK_EQ(make_small_delta(w, &b, &len), 0);
	CHECKF(len < 600, "small delta is %zu bytes", len);
	uint8_t *m = malloc(len);
	memcpy(m, b, len);
	for (size_t bit = 0; bit < len * 8; bit++) {
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = pst_delta_verify(m, len, NULL);
		CHECKF(rc == -ERR_CORRUPT || rc == -ERR_VERSION, "bit %zu: %d", bit, rc);
		if (bit % 7 == 0)
			CHECKF(refused_untouched(m, len, rc), "bit %zu applied", bit);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK_EQ(pst_delta_verify(m, len, NULL), 0);
	free(m);
	pst_delta_writer_free(w);
}

TEST(every_truncation_rejected)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	const void *b;
	size_t len;
	rng_s = 9;
	CHECK_EQ(make_small_delta(w, &b, &len), 0);
	for (size_t n = 0; n < len; n++) {
		uint8_t *m = malloc(n ? n : 1);   /* exact size: a read past it is a bug */
		memcpy(m, b, n);
		int rc = pst_delta_verify(m, n, NULL);
		free(m);
		CHECKF(rc == -ERR_CORRUPT, "length %zu: %d", n, rc);
	}
	uint8_t *m = malloc(len + 1);
	memcpy(m, b, len);
	m[len] = 0;
	CHECK_EQ(pst_delta_verify(m, len + 1, NULL), -ERR_CORRUPT);
	CHECK(refused_untouched(m, len + 1, -ERR_CORRUPT));
	free(m);
	CHECK_EQ(pst_delta_verify(NULL, 0, NULL), -ERR_CORRUPT);
	CHECK_EQ(pst_delta_verify(NULL, 100, NULL), -ERR_CORRUPT);
	pst_delta_writer_free(w);
}

/* Rewrite the checksum after tampering, as a hostile sender would. */
static void reseal(uint8_t *m, size_t len)
{
	crypto_generichash(m + len - PST_DELTA_SUM_LEN, PST_DELTA_SUM_LEN, m,
			   len - PST_DELTA_SUM_LEN, NULL, 0);
}

TEST(version_mismatch)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	const void *b;
	size_t len;
	rng_s = 10;
	CHECK_EQ(make_small_delta(w, &b, &len), 0);
	uint8_t *m = malloc(len);
	memcpy(m, b, len);
	pst_delta_put16(m + 4, PST_DELTA_VERSION + 1);
	reseal(m, len);
	CHECK_EQ(pst_delta_verify(m, len, NULL), -ERR_VERSION);
	CHECK(refused_untouched(m, len, -ERR_VERSION));
	free(m);
	pst_delta_writer_free(w);
}

/* Random bytes, and valid deltas with tampered records and a recomputed
 * checksum: never a crash, never a write past a buffer (run it under ASan),
 * and a refused delta leaves the image untouched. */
TEST(garbage_never_crashes)
{
	struct pst_delta_writer *w;
	CHECK_EQ(pst_delta_writer_new(&w), 0);
	rng_s = 11;
	uint8_t *m = malloc(8 * PG);
	for (int i = 0; i < 3000; i++) {
		size_t len = rndn(8 * PG);
		for (size_t k = 0; k < len; k++)
			m[k] = (uint8_t)rnd();
		if (len >= PST_DELTA_HDR_LEN + PST_DELTA_SUM_LEN && rndn(2)) {
			/* A plausible header so the record walk is reached. */
			pst_delta_put32(m, PST_DELTA_MAGIC);
			pst_delta_put16(m + 4, PST_DELTA_VERSION);
			pst_delta_put16(m + 6, PST_DELTA_HDR_LEN);
			pst_delta_put64(m + 8, 42);
			pst_delta_put64(m + 16, 41);
			pst_delta_put64(m + 32, len);
			pst_delta_put64(m + 40, 0);
			reseal(m, len);
		}
		int rc = pst_delta_verify(m, len, NULL);
		CHECKF(rc == -ERR_CORRUPT || rc == -ERR_VERSION, "garbage %d accepted", i);
	}
	int applied = 0, refused = 0;
	for (int i = 0; i < 3000; i++) {
		const void *b;
		size_t len;
		CHECK_EQ(make_small_delta(w, &b, &len), 0);
		memcpy(m, b, len);
		int nmut = 1 + (int)rndn(4);
		for (int k = 0; k < nmut; k++) {
			size_t at = PST_DELTA_HDR_LEN + rndn(len - PST_DELTA_HDR_LEN - PST_DELTA_SUM_LEN);
			m[at] = rndn(2) ? (uint8_t)rnd() : m[at] ^ (uint8_t)(1u << rndn(8));
		}
		reseal(m, len);
		img_copy(&work_, &base_);
		struct pst_delta_target t = target_of(&work_);
		int rc = pst_delta_apply(m, len, &t);
		if (rc == 0) {
			applied++;
		} else {
			refused++;
			CHECKF(work_.writes + work_.drops == 0 && img_equal(&work_, &base_),
			       "case %d: refused (%d) after writing", i, rc);
		}
	}
	/* Both outcomes occur: a tampered payload may still decode, a
	 * tampered kind or length must not. */
	CHECK(refused > 1000);
	CHECK(applied > 0);
	free(m);
	pst_delta_writer_free(w);
}

int main(void)
{
	check_begin("pst_delta_test");
	RUN(roundtrip_random);
	RUN(compression_boundary_roundtrips);
	RUN(chain_of_epochs);
	RUN(encoding_costs);
	RUN(base_hash_is_xxh64_of_the_page);
	RUN(deterministic_bytes);
	RUN(writer_misuse);
	RUN(wrong_base_epoch_refused);
	RUN(wrong_base_content_refused);
	RUN(large_delta);
	RUN(target_read_error_before_write);
	RUN(every_bit_flip_rejected);
	RUN(every_truncation_rejected);
	RUN(version_mismatch);
	RUN(garbage_never_crashes);
	img_clear(&base_);
	img_clear(&next_);
	img_clear(&work_);
	img_clear(&orig_);
	return check_done();
}
