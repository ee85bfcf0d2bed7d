/* delta_write.c — the delta encoder: turns one epoch's pages (each with its
 * base version) into the framed, checksummed bytes of delta_format.h. One
 * reusable zstd context and scratch pages per writer; the output buffer only
 * grows, so a steady state allocates nothing per page or per delta. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "delta.h"
#include "delta_format.h"
#include "err.h"
#include "plat.h"

#define PG PLAT_PAGE_SIZE
#define ZBUF_LEN ZSTD_COMPRESSBOUND(PLAT_PAGE_SIZE)

enum wstate { W_IDLE, W_OPEN, W_DONE };

struct rec_idx {
	uint64_t pgno;
	size_t off;          /* record's offset in buf                        */
	size_t len;          /* record header + payload                       */
};

struct pst_delta_writer {
	ZSTD_CCtx *cctx;
	enum pst_delta_enc mode;
	int level;
	enum wstate state;
	uint64_t epoch, base_epoch;
	uint32_t npages, nunused;

	/* buf = reserved header + records in arrival order (+ checksum when they
	 * arrived sorted); out = the sorted copy otherwise. */
	uint8_t *buf;
	size_t len, cap;
	uint8_t *out;
	size_t out_cap;
	struct rec_idx *idx;
	size_t nidx, idx_cap;
	bool sorted;

	uint8_t xor_page[PG];
	uint8_t zb[2][ZBUF_LEN];
};

static const uint8_t zero_page[PG];

static int grow(uint8_t **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64 * 1024;
	while (n < need)
		n *= 2;
	uint8_t *q = realloc(*p, n);
	if (!q)
		return -ERR_NOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int set_params(struct pst_delta_writer *w)
{
	/* The content size stays in the frame header (2 bytes for 4096): the
	 * decoder then knows it before decoding, and a frame claiming another
	 * size is refused early. No zstd checksum: the delta's BLAKE2b covers it. */
	if (ZSTD_isError(ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_and_parameters)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_dictIDFlag, 0)))
		return -ERR_INVAL;
	return 0;
}

int pst_delta_writer_new(struct pst_delta_writer **wp)
{
	struct pst_delta_writer *w = calloc(1, sizeof *w);
	if (!w)
		return -ERR_NOMEM;
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx) {
		free(w);
		return -ERR_NOMEM;
	}
	w->mode = PST_DELTA_ENC_DEFAULT;
	w->level = PST_DELTA_LEVEL_DEFAULT;
	int rc = set_params(w);
	if (rc) {
		pst_delta_writer_free(w);
		return rc;
	}
	*wp = w;
	return 0;
}

void pst_delta_writer_free(struct pst_delta_writer *w)
{
	if (!w)
		return;
	ZSTD_freeCCtx(w->cctx);
	free(w->buf);
	free(w->out);
	free(w->idx);
	free(w);
}

int pst_delta_writer_set_mode(struct pst_delta_writer *w, enum pst_delta_enc mode, int level)
{
	if (!w || w->state == W_OPEN || (unsigned)mode > PST_DELTA_ENC_BEST ||
	    level < 1 || level > 19)
		return -ERR_INVAL;
	w->mode = mode;
	w->level = level;
	return set_params(w);
}

int pst_delta_begin(struct pst_delta_writer *w, uint64_t epoch, uint64_t base_epoch)
{
	if (!w || epoch <= base_epoch)
		return -ERR_INVAL;
	int rc = grow(&w->buf, &w->cap, PST_DELTA_HDR_LEN);
	if (rc)
		return rc;
	w->epoch = epoch;
	w->base_epoch = base_epoch;
	w->npages = w->nunused = 0;
	w->len = PST_DELTA_HDR_LEN;
	w->nidx = 0;
	w->sorted = true;
	w->state = W_OPEN;
	return 0;
}

/* Reserve room for one record of up to `payload` bytes and index it. */
static int rec_open(struct pst_delta_writer *w, uint64_t pgno, size_t payload, uint8_t **rec)
{
	if (w->state != W_OPEN || pgno >= PST_DELTA_MAX_PAGES)
		return -ERR_INVAL;
	if (w->npages + w->nunused == UINT32_MAX)
		return -ERR_RANGE;
	int rc = grow(&w->buf, &w->cap, w->len + PST_DELTA_REC_LEN + payload + PST_DELTA_SUM_LEN);
	if (rc)
		return rc;
	if (w->nidx == w->idx_cap) {
		size_t n = w->idx_cap ? w->idx_cap * 2 : 256;
		struct rec_idx *q = realloc(w->idx, n * sizeof *q);
		if (!q)
			return -ERR_NOMEM;
		w->idx = q;
		w->idx_cap = n;
	}
	if (w->nidx && w->idx[w->nidx - 1].pgno >= pgno)
		w->sorted = false;
	*rec = w->buf + w->len;
	return 0;
}

/* Fill a record header, account for it and append it. */
static void rec_close(struct pst_delta_writer *w, uint8_t *rec, enum pst_delta_kind kind,
		      uint64_t pgno, const uint8_t *bhash, size_t payload)
{
	rec[0] = (uint8_t)kind;
	pst_delta_put16(rec + 1, (uint16_t)payload);
	pst_delta_put64(rec + 3, pgno);
	if (bhash)
		memcpy(rec + 11, bhash, PST_DELTA_BHASH_LEN);
	else
		memset(rec + 11, 0, PST_DELTA_BHASH_LEN);
	struct rec_idx *e = &w->idx[w->nidx++];
	e->pgno = pgno;
	e->off = w->len;
	e->len = PST_DELTA_REC_LEN + payload;
	w->len += e->len;
	if (kind == PST_DELTA_K_UNUSED)
		w->nunused++;
	else
		w->npages++;
}

/* zstd-compress src into dst, with base as prefix when given. Returns the
 * frame length, or 0 when the frame would not be smaller than a raw page. */
static size_t zcompress(struct pst_delta_writer *w, uint8_t *dst, const void *src,
			const void *prefix)
{
	if (prefix && ZSTD_isError(ZSTD_CCtx_refPrefix(w->cctx, prefix, PG)))
		return 0;
	size_t n = ZSTD_compress2(w->cctx, dst, PG - 1, src, PG);
	if (ZSTD_isError(n)) {
		/* dstSize_tooSmall: incompressible. Drop any unused prefix. */
		ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
		return 0;
	}
	return n;
}

int pst_delta_add_page(struct pst_delta_writer *w, uint64_t pgno, const void *base_page,
		       const void *new_page)
{
	return pst_delta_add_page_hashed(w, pgno, base_page, NULL, new_page);
}

int pst_delta_add_page_hashed(struct pst_delta_writer *w, uint64_t pgno,
			      const void *base_page,
			      const uint8_t base_hash[PST_DELTA_BHASH_LEN],
			      const void *new_page)
{
	if (!w || !new_page)
		return -ERR_INVAL;
	uint8_t *rec;
	int rc = rec_open(w, pgno, PG, &rec);
	if (rc)
		return rc;
	const uint8_t *base = base_page ? base_page : zero_page;
	const uint8_t *np = new_page;
	uint8_t bhash[PST_DELTA_BHASH_LEN];
	if (base_hash)
		memcpy(bhash, base_hash, sizeof bhash);
	else
		pst_delta_base_hash(base, bhash);

	uint8_t *payload = rec + PST_DELTA_REC_LEN;
	if (memcmp(np, base, PG) == 0) {
		rec_close(w, rec, PST_DELTA_K_SAME, pgno, bhash, 0);
		return 0;
	}
	if (pst_delta_page_is_zero(np)) {
		rec_close(w, rec, PST_DELTA_K_ZERO, pgno, bhash, 0);
		return 0;
	}

	/* Against a zero base both encodings mean plain zstd of the page; XOR
	 * gets there without loading a useless prefix (2x slower, measured). */
	bool zero_base = base == zero_page || pst_delta_page_is_zero(base);
	size_t nx = 0, np_ = 0;
	if (zero_base) {
		nx = zcompress(w, w->zb[0], np, NULL);
	} else if (w->mode != PST_DELTA_ENC_PREFIX) {
		uint8_t *restrict x = w->xor_page;
		const uint8_t *restrict a = np, *restrict b = base;
		for (size_t i = 0; i < PG; i++)   /* restrict: vectorised at -O2 */
			x[i] = a[i] ^ b[i];
		nx = zcompress(w, w->zb[0], w->xor_page, NULL);
	}
	if (w->mode != PST_DELTA_ENC_XOR && !zero_base)
		np_ = zcompress(w, w->zb[1], np, base);

	if (nx && (!np_ || nx <= np_)) {
		memcpy(payload, w->zb[0], nx);
		rec_close(w, rec, PST_DELTA_K_XOR, pgno, bhash, nx);
	} else if (np_) {
		memcpy(payload, w->zb[1], np_);
		rec_close(w, rec, PST_DELTA_K_PREFIX, pgno, bhash, np_);
	} else {
		memcpy(payload, np, PG);
		rec_close(w, rec, PST_DELTA_K_LITERAL, pgno, bhash, PG);
	}
	return 0;
}

int pst_delta_add_unused(struct pst_delta_writer *w, uint64_t pgno)
{
	if (!w)
		return -ERR_INVAL;
	uint8_t *rec;
	int rc = rec_open(w, pgno, 0, &rec);
	if (rc)
		return rc;
	rec_close(w, rec, PST_DELTA_K_UNUSED, pgno, NULL, 0);
	return 0;
}

static int idx_cmp(const void *a, const void *b)
{
	const struct rec_idx *x = a, *y = b;
	return x->pgno < y->pgno ? -1 : x->pgno > y->pgno;
}

int pst_delta_finish(struct pst_delta_writer *w, const void **bytes, size_t *len)
{
	if (!w || !bytes || !len || w->state != W_OPEN)
		return -ERR_INVAL;
	uint8_t *o = w->buf;
	size_t total = w->len + PST_DELTA_SUM_LEN;
	if (!w->sorted) {
		qsort(w->idx, w->nidx, sizeof *w->idx, idx_cmp);
		for (size_t i = 1; i < w->nidx; i++)
			if (w->idx[i].pgno == w->idx[i - 1].pgno)
				return -ERR_INVAL;
		int rc = grow(&w->out, &w->out_cap, total);
		if (rc)
			return rc;
		o = w->out;
		size_t at = PST_DELTA_HDR_LEN;
		for (size_t i = 0; i < w->nidx; i++) {
			memcpy(o + at, w->buf + w->idx[i].off, w->idx[i].len);
			at += w->idx[i].len;
		}
	}
	pst_delta_put32(o + 0, PST_DELTA_MAGIC);
	pst_delta_put16(o + 4, PST_DELTA_VERSION);
	pst_delta_put16(o + 6, PST_DELTA_HDR_LEN);
	pst_delta_put64(o + 8, w->epoch);
	pst_delta_put64(o + 16, w->base_epoch);
	pst_delta_put32(o + 24, w->npages);
	pst_delta_put32(o + 28, w->nunused);
	pst_delta_put64(o + 32, total);
	pst_delta_put64(o + 40, 0);
	crypto_generichash(o + w->len, PST_DELTA_SUM_LEN, o, w->len, NULL, 0);
	w->state = W_DONE;
	*bytes = o;
	*len = total;
	return 0;
}
