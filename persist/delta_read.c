/* delta_read.c — the delta decoder: verify a delta's bytes (never trusting
 * them), and apply one to a target image in two passes, so that a wrong base
 * or an undecodable page is refused before the first write. */
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

static const uint8_t zero_page[PG];

/* One record as the cursor sees it; payload points into the delta. */
struct rec {
	enum pst_delta_kind kind;
	uint64_t pgno;
	const uint8_t *bhash;
	const uint8_t *payload;
	size_t plen;
};

/* The record area [p, end) of a delta whose header and checksum passed. */
struct cursor {
	const uint8_t *p, *end;
	bool first;
	uint64_t prev;
};

/* Decode the next record into *r, checking everything that can be checked
 * without the target: kind, payload length for the kind, bounds, page order.
 * Returns 1 with a record, 0 at the exact end, -ERR_CORRUPT otherwise. */
static int rec_next(struct cursor *c, struct rec *r)
{
	if (c->p == c->end)
		return 0;
	if ((size_t)(c->end - c->p) < PST_DELTA_REC_LEN)
		return -ERR_CORRUPT;
	r->kind = (enum pst_delta_kind)c->p[0];
	r->plen = pst_delta_get16(c->p + 1);
	r->pgno = pst_delta_get64(c->p + 3);
	r->bhash = c->p + 11;
	r->payload = c->p + PST_DELTA_REC_LEN;
	if ((size_t)(c->end - r->payload) < r->plen)
		return -ERR_CORRUPT;
	if (r->pgno >= PST_DELTA_MAX_PAGES || (!c->first && r->pgno <= c->prev))
		return -ERR_CORRUPT;
	switch (r->kind) {
	case PST_DELTA_K_SAME:
	case PST_DELTA_K_ZERO:
		if (r->plen != 0)
			return -ERR_CORRUPT;
		break;
	case PST_DELTA_K_UNUSED:
		if (r->plen != 0 || memcmp(r->bhash, zero_page, PST_DELTA_BHASH_LEN) != 0)
			return -ERR_CORRUPT;
		break;
	case PST_DELTA_K_LITERAL:
		if (r->plen != PG)
			return -ERR_CORRUPT;
		break;
	case PST_DELTA_K_XOR:
	case PST_DELTA_K_PREFIX:
		/* The writer stores a page raw unless zstd made it smaller, and
		 * always records the content size in the frame header. */
		if (r->plen == 0 || r->plen >= PG ||
		    ZSTD_getFrameContentSize(r->payload, r->plen) != PG)
			return -ERR_CORRUPT;
		break;
	default:
		return -ERR_CORRUPT;
	}
	c->first = false;
	c->prev = r->pgno;
	c->p = r->payload + r->plen;
	return 1;
}

/* Header and checksum; on success *c covers the records. */
static int check_frame(const uint8_t *b, size_t len, struct pst_delta_info *info,
		       struct cursor *c)
{
	if (!b || len < PST_DELTA_HDR_LEN + PST_DELTA_SUM_LEN)
		return -ERR_CORRUPT;
	if (pst_delta_get32(b) != PST_DELTA_MAGIC)
		return -ERR_CORRUPT;
	if (pst_delta_get16(b + 4) != PST_DELTA_VERSION)
		return -ERR_VERSION;
	if (pst_delta_get16(b + 6) != PST_DELTA_HDR_LEN || pst_delta_get64(b + 32) != len ||
	    pst_delta_get64(b + 40) != 0)
		return -ERR_CORRUPT;
	uint8_t sum[PST_DELTA_SUM_LEN];
	crypto_generichash(sum, sizeof sum, b, len - PST_DELTA_SUM_LEN, NULL, 0);
	if (memcmp(sum, b + len - PST_DELTA_SUM_LEN, sizeof sum) != 0)
		return -ERR_CORRUPT;
	info->epoch = pst_delta_get64(b + 8);
	info->base_epoch = pst_delta_get64(b + 16);
	info->npages = pst_delta_get32(b + 24);
	info->nunused = pst_delta_get32(b + 28);
	info->raw_bytes = (uint64_t)info->npages * PG;
	if (info->epoch <= info->base_epoch)
		return -ERR_CORRUPT;
	c->p = b + PST_DELTA_HDR_LEN;
	c->end = b + len - PST_DELTA_SUM_LEN;
	c->first = true;
	c->prev = 0;
	return 0;
}

/* Everything verify checks; on success *start covers the records. */
static int verify_all(const void *bytes, size_t len, struct pst_delta_info *info,
		      struct cursor *start, uint32_t *nzstd)
{
	struct cursor c;
	int rc = check_frame(bytes, len, info, &c);
	if (rc)
		return rc;
	*start = c;
	uint64_t npages = 0, nunused = 0;
	struct rec r;
	*nzstd = 0;
	while ((rc = rec_next(&c, &r)) == 1) {
		if (r.kind == PST_DELTA_K_UNUSED)
			nunused++;
		else
			npages++;
		if (r.kind == PST_DELTA_K_XOR || r.kind == PST_DELTA_K_PREFIX)
			(*nzstd)++;
	}
	if (rc < 0)
		return rc;
	if (npages != info->npages || nunused != info->nunused)
		return -ERR_CORRUPT;
	return 0;
}

int pst_delta_verify(const void *bytes, size_t len, struct pst_delta_info *info)
{
	struct pst_delta_info tmp;
	struct cursor c;
	uint32_t nzstd;
	int rc = verify_all(bytes, len, &tmp, &c, &nzstd);
	if (rc == 0 && info)
		*info = tmp;
	return rc;
}

/* Scratch for apply: the base page as the target holds it and the decoded
 * page (on the heap: too much for a kernel thread's stack), and the first
 * `nkeep` zstd records' pages as pass 1 decoded them, so pass 2 writes them
 * without decoding twice. Bounded: later records are decoded again. */
#define KEEP_MAX 256u      /* pages: 1 MiB */

struct scratch {
	ZSTD_DCtx *dctx;          /* created at the first zstd record */
	uint8_t base[PG];
	uint8_t out[PG];
	uint32_t nkeep;
	uint8_t keep[][PG];
};

/* Decode a zstd record against s->base into out; exactly one page or
 * -ERR_CORRUPT. The destination's capacity is one page, so hostile frames
 * cannot write past it. */
static int decode(struct scratch *s, const struct rec *r, uint8_t *out)
{
	if (!s->dctx && !(s->dctx = ZSTD_createDCtx()))
		return -ERR_NOMEM;
	if (r->kind == PST_DELTA_K_PREFIX &&
	    ZSTD_isError(ZSTD_DCtx_refPrefix(s->dctx, s->base, PG)))
		return -ERR_CORRUPT;
	size_t n = ZSTD_decompressDCtx(s->dctx, out, PG, r->payload, r->plen);
	if (ZSTD_isError(n) || n != PG) {
		/* Forget a prefix the failed frame did not consume. */
		ZSTD_DCtx_reset(s->dctx, ZSTD_reset_session_only);
		return -ERR_CORRUPT;
	}
	if (r->kind == PST_DELTA_K_XOR) {
		uint8_t *restrict o = out;
		const uint8_t *restrict b = s->base;
		for (size_t i = 0; i < PG; i++)
			o[i] ^= b[i];
	}
	return 0;
}

/* Pass 1: every page's base must hash as recorded and every zstd record
 * must decode to one page. Reads only. */
static int check_bases(struct scratch *s, struct cursor c, const struct pst_delta_target *t)
{
	struct rec r;
	int rc;
	uint32_t iz = 0;
	while ((rc = rec_next(&c, &r)) == 1) {
		if (r.kind == PST_DELTA_K_UNUSED)
			continue;
		if ((rc = t->read_page(t->ctx, r.pgno, s->base)) != 0)
			return rc < 0 ? rc : -ERR_IO;
		uint8_t h[PST_DELTA_BHASH_LEN];
		pst_delta_base_hash(s->base, h);
		if (memcmp(h, r.bhash, sizeof h) != 0)
			return -ERR_INVAL;
		if (r.kind == PST_DELTA_K_XOR || r.kind == PST_DELTA_K_PREFIX) {
			uint8_t *out = iz < s->nkeep ? s->keep[iz] : s->out;
			iz++;
			if ((rc = decode(s, &r, out)) != 0)
				return rc;
		}
	}
	return rc;
}

/* Pass 2: write the new image. Pass 1 decoded the same bytes against the same
 * bases (the kept pages are its output), so only the target's own errors can
 * stop it. */
static int write_pages(struct scratch *s, struct cursor c, const struct pst_delta_target *t)
{
	struct rec r;
	int rc;
	uint32_t iz = 0;
	while ((rc = rec_next(&c, &r)) == 1) {
		switch (r.kind) {
		case PST_DELTA_K_SAME:
			continue;
		case PST_DELTA_K_ZERO:
			rc = t->write_page(t->ctx, r.pgno, zero_page);
			break;
		case PST_DELTA_K_LITERAL:
			rc = t->write_page(t->ctx, r.pgno, r.payload);
			break;
		case PST_DELTA_K_XOR:
		case PST_DELTA_K_PREFIX:
			if (iz < s->nkeep) {
				rc = t->write_page(t->ctx, r.pgno, s->keep[iz++]);
				break;
			}
			if ((rc = t->read_page(t->ctx, r.pgno, s->base)) != 0 ||
			    (rc = decode(s, &r, s->out)) != 0)
				break;
			rc = t->write_page(t->ctx, r.pgno, s->out);
			break;
		case PST_DELTA_K_UNUSED:
			rc = t->drop_page(t->ctx, r.pgno);
			break;
		}
		if (rc)
			return rc < 0 ? rc : -ERR_IO;
	}
	return rc;
}

int pst_delta_apply(const void *bytes, size_t len, const struct pst_delta_target *t)
{
	if (!t || !t->read_page || !t->write_page || !t->drop_page)
		return -ERR_INVAL;
	struct pst_delta_info info;
	struct cursor c;
	uint32_t nzstd;
	int rc = verify_all(bytes, len, &info, &c, &nzstd);
	if (rc)
		return rc;
	if (info.base_epoch != t->epoch)
		return -ERR_INVAL;
	uint32_t nkeep = nzstd < KEEP_MAX ? nzstd : KEEP_MAX;
	struct scratch *s = malloc(sizeof *s + (size_t)nkeep * PG);
	if (!s)
		return -ERR_NOMEM;
	s->dctx = NULL;
	s->nkeep = nkeep;
	rc = check_bases(s, c, t);
	if (rc == 0)
		rc = write_pages(s, c, t);
	ZSTD_freeDCtx(s->dctx);
	free(s);
	return rc;
}
