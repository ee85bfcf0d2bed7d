/* store_map.c — the page map: a radix tree of map blocks whose entries carry
 * each child's block number and checksum, so every block is verified from
 * its parent. Lazy lookup of one page (pst_store_read_page) or of its
 * committed hash (pst_store_page_hash_at), the verified map-block cache, and
 * the open-time walk that rebuilds free space. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

void pst_ent_get(const uint8_t *map, unsigned i, struct pst_ent *e)
{
	e->blk = pst_get64(map + 16 * i);
	e->sum = pst_get64(map + 16 * i + 8);
}

void pst_ent_put(uint8_t *map, unsigned i, struct pst_ent e)
{
	pst_put64(map + 16 * i, e.blk);
	pst_put64(map + 16 * i + 8, e.sum);
}

static unsigned level_shift(const struct pst_store *s, unsigned level)
{
	return PST_FANOUT_BITS * (s->cur.levels - 1 - level);
}

/* The verified contents of map block e (at `level`, on the path of pgno):
 * *map points into the cache (or the scratch buffer) and stays valid until
 * the next store call. */
static int map_view(struct pst_store *s, struct pst_ent e, unsigned level,
		    uint64_t pgno, const uint8_t **map)
{
	struct pst_cache_ent *c = s->cache ? &s->cache[e.blk % PST_CACHE_SLOTS] : NULL;
	if (c && c->blk == e.blk && c->sum == e.sum) {
		*map = c->data;
		return 0;
	}
	uint8_t *buf = c ? c->data : s->scratch;
	if (c)
		c->blk = 0;           /* empty until the new block verifies */
	int rc = pst_store_io(s, false, e.blk, buf);
	if (rc < 0)
		return rc;
	uint64_t got = pst_store_sum(e.blk, buf);
	if (got != e.sum)
		return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: map block %llu "
			"(level %u, on the path of page %llu) fails its checksum: "
			"parent says %016llx, block has %016llx",
			(unsigned long long)s->cur.epoch, (unsigned long long)e.blk,
			level, (unsigned long long)pgno,
			(unsigned long long)e.sum, (unsigned long long)got);
	if (c) {
		c->blk = e.blk;
		c->sum = e.sum;
	}
	*map = buf;
	return 0;
}

int pst_store_map_read(struct pst_store *s, struct pst_ent e, unsigned level,
		       uint64_t pgno, uint8_t *out)
{
	const uint8_t *map;
	int rc = map_view(s, e, level, pgno, &map);
	if (rc == 0)
		memcpy(out, map, PST_BLK);
	return rc;
}

void pst_store_cache_put(struct pst_store *s, struct pst_ent e,
			 const uint8_t *map)
{
	if (s->cache == NULL)
		return;
	struct pst_cache_ent *c = &s->cache[e.blk % PST_CACHE_SLOTS];
	c->blk = e.blk;
	c->sum = e.sum;
	memcpy(c->data, map, PST_BLK);
}

int pst_store_read_page(struct pst_store *s, uint64_t pgno, void *buf,
			bool *present)
{
	uint64_t hash;
	return pst_store_read_page_hashed(s, pgno, buf, present, &hash);
}

/* Page pgno's entry in the committed map (blk 0: absent), every map block
 * on the way verified. */
static int find_ent(struct pst_store *s, uint64_t pgno, struct pst_ent *out)
{
	if (pgno >= s->cur.arena_pages)
		return pst_store_seterr(s, -ERR_RANGE, "page %llu is outside the "
			"arena (%llu pages)", (unsigned long long)pgno,
			(unsigned long long)s->cur.arena_pages);
	const uint8_t *map;
	struct pst_ent e = s->cur.root;
	for (unsigned l = 0; l < s->cur.levels && e.blk != 0; l++) {
		int rc = map_view(s, e, l, pgno, &map);
		if (rc < 0)
			return rc;
		pst_ent_get(map, (pgno >> level_shift(s, l)) & (PST_FANOUT - 1), &e);
		if (e.blk != 0 && (e.blk < PST_FIRST_DATA || e.blk >= s->nblocks))
			return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: map "
				"entry for page %llu at level %u points outside "
				"the device (block %llu)",
				(unsigned long long)s->cur.epoch,
				(unsigned long long)pgno, l,
				(unsigned long long)e.blk);
	}
	*out = e;
	return 0;
}

int pst_store_page_hash_at(struct pst_store *s, uint64_t pgno, uint64_t *hash)
{
	if (s == NULL || hash == NULL)
		return -ERR_INVAL;
	struct pst_ent e;
	int rc = find_ent(s, pgno, &e);
	if (rc < 0)
		return rc;
	*hash = e.blk ? pst_store_hash_of_sum(e.blk, e.sum) : PST_STORE_ZERO_HASH;
	return 0;
}

int pst_store_unstored_run(struct pst_store *s, uint64_t pgno, uint32_t max,
			   uint32_t *count)
{
	if (s == NULL || count == NULL)
		return -ERR_INVAL;
	uint32_t n = 0;
	for (; n < max && pgno + n < s->cur.arena_pages; n++) {
		struct pst_ent e;
		int rc = find_ent(s, pgno + n, &e);
		if (rc < 0)
			return rc;
		if (e.blk != 0)
			break;
	}
	*count = n;
	return 0;
}

int pst_store_read_page_hashed(struct pst_store *s, uint64_t pgno, void *buf,
			       bool *present, uint64_t *hash)
{
	if (s == NULL || buf == NULL || hash == NULL)
		return -ERR_INVAL;
	if (present)
		*present = false;
	struct pst_ent e;
	int rc = find_ent(s, pgno, &e);
	if (rc < 0)
		return rc;
	if (e.blk == 0) {
		memset(buf, 0, PST_BLK);
		*hash = PST_STORE_ZERO_HASH;
		return 0;
	}
	if ((rc = pst_store_io(s, false, e.blk, buf)) < 0)
		return rc;
	*hash = pst_store_page_hash(buf);
	uint64_t got = pst_store_sum_of(e.blk, *hash);
	if (got != e.sum) {
		/* Never hand back bytes that failed their check. */
		memset(buf, 0, PST_BLK);
		return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: data block "
			"%llu (page %llu) fails its checksum: map says %016llx, "
			"block has %016llx", (unsigned long long)s->cur.epoch,
			(unsigned long long)e.blk, (unsigned long long)pgno,
			(unsigned long long)e.sum, (unsigned long long)got);
	}
	if (present)
		*present = true;
	return 0;
}

struct walk {
	struct pst_store *s;
	const struct pst_sb *sb;
	bool other;              /* walking the previous epoch's tree */
	uint64_t count;          /* blocks newly marked                */
	uint8_t (*buf)[PST_BLK]; /* one per level                      */
};

/* Marks block b used. For the committed tree a block seen twice is corrupt;
 * for the other tree an already-used block is shared with the committed
 * one (blocks are immutable while live), so its subtree is skipped. */
static int walk_mark(struct walk *w, uint64_t b, unsigned level, uint64_t first,
		     bool *skip)
{
	struct pst_store *s = w->s;
	*skip = false;
	if (b < PST_FIRST_DATA || b >= s->nblocks)
		return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: map entry "
			"at level %u (pages from %llu) points outside the device "
			"(block %llu)", (unsigned long long)w->sb->epoch, level,
			(unsigned long long)first, (unsigned long long)b);
	if (pst_store_bit(s, b)) {
		if (w->other) {
			*skip = true;
			return 0;
		}
		return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: block %llu "
			"is referenced twice in the page map (level %u, pages "
			"from %llu)", (unsigned long long)w->sb->epoch,
			(unsigned long long)b, level, (unsigned long long)first);
	}
	pst_store_mark(s, b);
	w->count++;
	if (w->other)
		return pst_store_pend_add(s, b);
	return 0;
}

static int walk_node(struct walk *w, struct pst_ent e, unsigned level,
		     uint64_t first)
{
	struct pst_store *s = w->s;
	bool skip;
	int rc = walk_mark(w, e.blk, level, first, &skip);
	if (rc < 0 || skip)
		return rc;
	uint8_t *map = w->buf[level];
	if ((rc = pst_store_io(s, false, e.blk, map)) < 0)
		return rc;
	uint64_t got = pst_store_sum(e.blk, map);
	if (got != e.sum)
		return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: map block "
			"%llu (level %u, pages from %llu) fails its checksum: "
			"parent says %016llx, block has %016llx",
			(unsigned long long)w->sb->epoch, (unsigned long long)e.blk,
			level, (unsigned long long)first,
			(unsigned long long)e.sum, (unsigned long long)got);
	unsigned shift = PST_FANOUT_BITS * (w->sb->levels - 1 - level);
	for (unsigned i = 0; i < PST_FANOUT; i++) {
		struct pst_ent c;
		pst_ent_get(map, i, &c);
		uint64_t cfirst = first + ((uint64_t)i << shift);
		if (c.blk == 0) {
			if (c.sum != 0)
				return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: "
					"map block %llu entry %u is absent but "
					"carries a checksum",
					(unsigned long long)w->sb->epoch,
					(unsigned long long)e.blk, i);
			continue;
		}
		if (cfirst >= w->sb->arena_pages)
			return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: map "
				"block %llu entry %u maps pages from %llu, beyond "
				"the arena", (unsigned long long)w->sb->epoch,
				(unsigned long long)e.blk, i,
				(unsigned long long)cfirst);
		if (level + 1 < w->sb->levels) {
			rc = walk_node(w, c, level + 1, cfirst);
		} else {
			/* Data blocks are marked, never read: open stays lazy. */
			rc = walk_mark(w, c.blk, level + 1, cfirst, &skip);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Marks every block of sb's tree used and verifies every map block. For the
 * committed tree (other = false) also checks the superblock's block count. */
int pst_store_walk(struct pst_store *s, const struct pst_sb *sb, bool other)
{
	struct walk w = { .s = s, .sb = sb, .other = other };
	if (sb->root.blk == 0)
		goto count;
	w.buf = malloc((size_t)sb->levels * PST_BLK);
	if (w.buf == NULL)
		return -ERR_NOMEM;
	int rc = walk_node(&w, sb->root, 0, 0);
	free(w.buf);
	if (rc < 0)
		return rc;
count:
	if (!other && w.count + PST_FIRST_DATA != sb->used_blocks)
		return pst_store_seterr(s, -ERR_CORRUPT, "epoch %llu: superblock %u "
			"counts %llu used blocks but its page map holds %llu",
			(unsigned long long)sb->epoch, sb->slot,
			(unsigned long long)sb->used_blocks,
			(unsigned long long)(w.count + PST_FIRST_DATA));
	return 0;
}
