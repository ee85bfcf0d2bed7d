/* store_open.c — opening a store at its last committed epoch: choosing a
 * superblock, the fallback rule, rebuilding free space from the live map
 * blocks; plus close and the small accessors.
 *
 * Fallback rule (docs/store-format.md, "Open"): the newest valid superblock
 * is used when its whole page map verifies. Otherwise the other one is used
 * only if it is the newest one's direct predecessor (prev_epoch) and its map
 * verifies: commits never write a block live in either slot's tree and a
 * slot whose tree is not protected is zeroed before its blocks are reused,
 * so a verified predecessor is intact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static int fail(struct pst_store *s, int rc, char *why, size_t whylen)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", s->err);
	pst_store_close(s);
	return rc;
}

static bool slot_empty(const uint8_t *img)
{
	for (size_t i = 0; i < PST_BLK; i++)
		if (img[i] != 0)
			return false;
	return true;
}

/* Rebuilds space with `cur` as the committed tree; then, if `o` is given,
 * protects its tree too when it verifies. */
static int use_trees(struct pst_store *s, const struct pst_sb *cur,
		     const struct pst_sb *o)
{
	s->cur = *cur;
	s->nblocks = cur->dev_blocks;
	int rc = pst_store_space_init(s);
	if (rc == 0)
		rc = pst_store_walk(s, cur, false);
	if (rc < 0)
		return rc;
	s->other_live = false;
	if (o != NULL) {
		char saved[sizeof s->err];
		memcpy(saved, s->err, sizeof saved);
		if (pst_store_walk(s, o, true) == 0) {
			s->other_live = true;
		} else {
			snprintf(s->notice, sizeof s->notice, "previous epoch's page "
				 "map is damaged and will be discarded: %.400s", s->err);
			pst_store_pend_release(s);
		}
		memcpy(s->err, saved, sizeof saved);
	}
	/* A slot whose tree is not protected is zeroed before the first commit
	 * reuses any block, so no later open can pick it. */
	s->other_wipe = !s->other_live && !slot_empty(s->img[cur->slot ^ 1]);
	return 0;
}

int pst_store_open(struct plat_blk *blk, struct pst_store **out, char *why,
		   size_t whylen)
{
	if (why && whylen)
		why[0] = 0;
	if (blk == NULL || out == NULL)
		return -ERR_INVAL;
	struct pst_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -ERR_NOMEM;
	s->blk = blk;
	s->cache = calloc(PST_CACHE_SLOTS, sizeof *s->cache);
	if (s->cache == NULL)
		return fail(s, -ERR_NOMEM, why, whylen);
	if (blk->size < (uint64_t)(PST_FIRST_DATA + 2) * PST_BLK)
		return fail(s, pst_store_seterr(s, -ERR_CORRUPT, "%s: device "
			"truncated or too small: %llu bytes, a store needs at "
			"least %u", blk->name ? blk->name : "device",
			(unsigned long long)blk->size,
			(PST_FIRST_DATA + 2) * PST_BLK), why, whylen);
	int rc;
	for (uint32_t i = 0; i < 2; i++)
		if ((rc = pst_store_io(s, false, i, s->img[i])) < 0)
			return fail(s, rc, why, whylen);

	struct pst_sb sb[2];
	char bad[2][160];
	int src[2];
	for (uint32_t i = 0; i < 2; i++)
		src[i] = pst_store_sb_decode(s->img[i], i, blk->size, &sb[i],
					     bad[i], sizeof bad[i]);
	if (src[0] < 0 && src[1] < 0) {
		rc = (src[0] == -ERR_NOENT && src[1] == -ERR_NOENT) ? -ERR_NOENT
		   : (src[0] == -ERR_VERSION || src[1] == -ERR_VERSION) ? -ERR_VERSION
		   : -ERR_CORRUPT;
		return fail(s, pst_store_seterr(s, rc, "no usable superblock: %s; %s",
						 bad[0], bad[1]), why, whylen);
	}
	if (src[0] == -ERR_VERSION || src[1] == -ERR_VERSION) {
		/* Never open (and later wipe) around a format we cannot read. */
		uint32_t k = src[0] == -ERR_VERSION ? 0 : 1;
		return fail(s, pst_store_seterr(s, -ERR_VERSION, "%s", bad[k]),
			    why, whylen);
	}
	if (src[0] == 0 && src[1] == 0) {
		const char *bad2 = NULL;
		if (sb[0].epoch == sb[1].epoch)
			bad2 = "both superblocks claim the same epoch";
		else if (sb[0].dev_blocks != sb[1].dev_blocks ||
			 sb[0].arena_pages != sb[1].arena_pages)
			bad2 = "the superblocks disagree on device or arena size";
		if (bad2)
			return fail(s, pst_store_seterr(s, -ERR_CORRUPT, "%s (epochs "
				"%llu and %llu)", bad2,
				(unsigned long long)sb[0].epoch,
				(unsigned long long)sb[1].epoch), why, whylen);
	}

	if (src[0] < 0 || src[1] < 0) {
		/* One usable superblock. A non-empty unusable one may be a torn
		 * superblock write of an interrupted commit or a damaged newer
		 * epoch; the usable one is intact either way, and we say so. */
		uint32_t k = src[0] == 0 ? 0 : 1;
		if ((rc = use_trees(s, &sb[k], NULL)) < 0)
			return fail(s, rc, why, whylen);
		if (src[k ^ 1] != -ERR_NOENT) {
			s->fell_back = true;
			snprintf(s->notice, sizeof s->notice, "opened epoch %llu from "
				 "superblock %u because %s",
				 (unsigned long long)sb[k].epoch, k, bad[k ^ 1]);
		}
		goto done;
	}

	uint32_t n = sb[0].epoch > sb[1].epoch ? 0 : 1, o = n ^ 1;
	if ((rc = use_trees(s, &sb[n], &sb[o])) == 0)
		goto done;
	char reason[sizeof s->err];
	memcpy(reason, s->err, sizeof reason);
	if (sb[n].prev_epoch != sb[o].epoch)
		return fail(s, pst_store_seterr(s, rc, "%s; fallback refused: "
			"superblock %u holds epoch %llu, not the predecessor %llu",
			reason, o, (unsigned long long)sb[o].epoch,
			(unsigned long long)sb[n].prev_epoch), why, whylen);
	if ((rc = use_trees(s, &sb[o], NULL)) < 0) {
		char r2[sizeof s->err];
		memcpy(r2, s->err, sizeof r2);
		return fail(s, pst_store_seterr(s, rc, "both epochs damaged: %s; "
			"and %s", reason, r2), why, whylen);
	}
	s->fell_back = true;
	snprintf(s->notice, sizeof s->notice, "fell back from epoch %llu to "
		 "epoch %llu: %.400s", (unsigned long long)sb[n].epoch,
		 (unsigned long long)sb[o].epoch, reason);
done:
	s->err[0] = 0;
	if (why && whylen)
		snprintf(why, whylen, "%s", s->notice);
	*out = s;
	return 0;
}

void pst_store_close(struct pst_store *s)
{
	if (s == NULL)
		return;
	if (s->txn)
		pst_txn_abort(s->txn);
	free(s->used);
	free(s->pend);
	free(s->cache);
	free(s);
}

uint64_t pst_store_epoch(const struct pst_store *s) { return s->cur.epoch; }
uint64_t pst_store_arena_pages(const struct pst_store *s) { return s->cur.arena_pages; }
uint64_t pst_store_device_blocks(const struct pst_store *s) { return s->nblocks; }
uint64_t pst_store_free_blocks(const struct pst_store *s) { return s->nblocks - s->nused; }
bool pst_store_fell_back(const struct pst_store *s) { return s->fell_back; }
const char *pst_store_notice(const struct pst_store *s) { return s->notice; }
const char *pst_store_last_error(const struct pst_store *s) { return s->err; }

int pst_store_get_meta(struct pst_store *s, void *buf, size_t cap, size_t *len)
{
	if (s == NULL || len == NULL || (buf == NULL && cap != 0))
		return -ERR_INVAL;
	*len = s->cur.meta_len;
	if (cap < s->cur.meta_len)
		return pst_store_seterr(s, -ERR_RANGE, "meta blob is %u bytes, "
					"buffer holds %zu", s->cur.meta_len, cap);
	memcpy(buf, s->cur.meta, s->cur.meta_len);
	return 0;
}
