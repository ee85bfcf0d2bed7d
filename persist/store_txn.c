/* store_txn.c — one epoch's commit: page writes to free blocks, the
 * path-copied page map, and the ordered, flushed superblock switch.
 *
 * Commit order (each step only after the previous one returned):
 *   1. (txn_begin) zero an unprotected other slot, flush
 *   2. data blocks (at put time, consecutive ones gathered into one write of
 *      up to WB_BLOCKS) and new map blocks to free blocks
 *   3. flush                      -> everything the new root reaches is durable
 *   4. superblock to the other slot (epoch, root + checksum), flush
 *                                 -> the epoch is committed
 * A crash anywhere leaves either the old superblock (whose blocks nothing
 * touched) or the new one (whose blocks were flushed before it).
 *
 * A commit that fails gives back what steps 2–4 allocated and released and
 * keeps the txn (after a failed superblock write that could not be undone,
 * only once the slot's old bytes are back: see restore_other). After any failed write or commit, the next commit first
 * rewrites the data blocks, each read back and checked against its page's
 * hash: a device that failed once may have dropped writes it had taken. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define WB_BLOCKS 32u              /* write-behind: blocks per data write */

struct chg {
	uint64_t pgno, seq;        /* seq: order of the puts of one page */
	struct pst_ent e;          /* blk 0: absent (dropped or all zeros) */
};

struct ulist {
	uint64_t *v;
	size_t n, cap;
};

/* What building the map allocates and releases, to be given back if the
 * commit fails. */
struct build_mark {
	size_t alloc_n, rel_n;
	int64_t live_delta;
};

struct pst_txn {
	struct pst_store *s;
	uint64_t epoch;
	struct chg *c;
	size_t n, cap;
	uint64_t next_seq;
	bool retry;                /* a write or commit failed: the commit
				    * rewrites the data blocks first */
	bool lost;                 /* a data block was lost or unreadable:
				    * only abort                            */
	struct ulist alloc;        /* blocks this txn allocated (undo on failure) */
	struct ulist rel;          /* committed blocks the new epoch no longer uses */
	struct ulist held;         /* a failed build's blocks that the unsure
				    * slot may reach: freed once it is back */
	int64_t live_delta;        /* new tree's blocks minus the committed tree's */
	/* Data blocks put but not yet written: wb_n blocks from wb_first on.
	 * Their changes are already listed, so a txn never commits (nor gives
	 * the buffer up) before wb_flush has written them. */
	uint8_t *wb;
	uint64_t wb_first;
	uint32_t wb_n;
	uint32_t meta_len;
	uint8_t meta[PST_STORE_META_MAX];
	uint8_t buf[PST_MAX_LEVELS][PST_BLK];
};

static int ulist_add(struct ulist *l, uint64_t v)
{
	if (l->n == l->cap) {
		size_t n = l->cap ? l->cap * 2 : 64;
		uint64_t *p = realloc(l->v, n * sizeof *p);
		if (p == NULL)
			return -ERR_NOMEM;
		l->v = p;
		l->cap = n;
	}
	l->v[l->n++] = v;
	return 0;
}

static int txn_alloc(struct pst_txn *t, uint64_t *b)
{
	int rc = pst_store_alloc(t->s, b);
	if (rc < 0)
		return rc;
	if ((rc = ulist_add(&t->alloc, *b)) < 0) {
		pst_store_unmark(t->s, *b);
		return rc;
	}
	t->live_delta++;
	return 0;
}

/* Undoes the latest txn_alloc (b is still the last block in t->alloc). */
static void txn_unalloc(struct pst_txn *t, uint64_t b)
{
	t->alloc.n--;
	pst_store_unmark(t->s, b);
	t->live_delta--;
}

static int txn_release(struct pst_txn *t, uint64_t b)
{
	t->live_delta--;
	return ulist_add(&t->rel, b);
}

static void txn_free(struct pst_txn *t, bool undo)
{
	if (undo)
		for (size_t i = 0; i < t->alloc.n; i++)
			pst_store_unmark(t->s, t->alloc.v[i]);
	t->s->txn = NULL;
	free(t->held.v);
	free(t->alloc.v);
	free(t->rel.v);
	free(t->c);
	free(t->wb);
	free(t);
}

/* Writes the gathered data blocks; on failure they stay gathered (a later
 * put or the commit tries again). */
static int wb_flush(struct pst_txn *t)
{
	if (t->wb_n == 0)
		return 0;
	struct pst_store *s = t->s;
	int rc = pst_store_dev_write(s, t->wb_first * PST_BLK, t->wb,
				     (size_t)t->wb_n * PST_BLK);
	if (rc < 0) {
		t->retry = true;       /* what the device holds is in doubt */
		return pst_store_seterr(s, rc, "%s: write of blocks %llu..%llu "
			"failed: %s", s->blk->name ? s->blk->name : "store",
			(unsigned long long)t->wb_first,
			(unsigned long long)(t->wb_first + t->wb_n - 1),
			err_str(rc));
	}
	t->wb_n = 0;
	return 0;
}

/* Data block b (just allocated) will hold page: gathered when it extends
 * the run in the buffer, else the buffer is written first. */
static int wb_put(struct pst_txn *t, uint64_t b, const void *page)
{
	if (t->wb == NULL && (t->wb = malloc((size_t)WB_BLOCKS * PST_BLK)) == NULL) {
		int rc = pst_store_io(t->s, true, b, (void *)page);
		if (rc < 0)
			t->retry = true;
		return rc;
	}
	if (t->wb_n > 0 && (t->wb_n == WB_BLOCKS || b != t->wb_first + t->wb_n)) {
		int rc = wb_flush(t);
		if (rc < 0)
			return rc;
	}
	if (t->wb_n == 0)
		t->wb_first = b;
	memcpy(t->wb + (size_t)t->wb_n * PST_BLK, page, PST_BLK);
	t->wb_n++;
	return 0;
}

/* Puts back the other slot's last known bytes after a commit whose
 * superblock write, and the restore right after it, failed: until this
 * succeeds the slot may hold that commit's superblock, so no block that
 * commit wrote may be freed (puts meanwhile only take free blocks, which it
 * cannot reach), and no new txn may begin. */
static int restore_other(struct pst_store *s)
{
	uint32_t o = s->cur.slot ^ 1;
	int rc = pst_store_io(s, true, o, s->img[o]);
	if (rc == 0)
		rc = pst_store_flush(s, "restored superblock");
	if (rc < 0) {
		char why[sizeof s->err];
		memcpy(why, s->err, sizeof why);
		return pst_store_seterr(s, rc, "superblock %u may still hold a "
			"failed commit; putting its old bytes back failed: %s",
			o, why);
	}
	s->slot_unsure = false;
	return 0;
}

int pst_txn_begin(struct pst_store *s, uint64_t epoch, struct pst_txn **out)
{
	int rc;
	if (s == NULL || out == NULL)
		return -ERR_INVAL;
	if (s->txn)
		return pst_store_seterr(s, -ERR_BUSY, "a txn is already open");
	if (s->slot_unsure && (rc = restore_other(s)) < 0)
		return rc;
	if (epoch <= s->cur.epoch)
		return pst_store_seterr(s, -ERR_INVAL, "epoch %llu does not follow "
					"the committed epoch %llu",
					(unsigned long long)epoch,
					(unsigned long long)s->cur.epoch);
	if (s->other_wipe) {
		/* Blocks of the unprotected slot's tree are about to be reused:
		 * zero that slot durably first, so no open can pick it. */
		uint32_t o = s->cur.slot ^ 1;
		memset(s->img[o], 0, PST_BLK);
		rc = pst_store_io(s, true, o, s->img[o]);
		if (rc == 0)
			rc = pst_store_flush(s, "wiped superblock");
		if (rc < 0)
			return rc;
		s->other_wipe = false;
	}
	struct pst_txn *t = calloc(1, sizeof *t);
	if (t == NULL)
		return -ERR_NOMEM;
	t->s = s;
	t->epoch = epoch;
	t->meta_len = s->cur.meta_len;
	memcpy(t->meta, s->cur.meta, t->meta_len);
	s->txn = t;
	*out = t;
	return 0;
}

/* Room for one more change, so that listing it cannot fail. */
static int chg_room(struct pst_txn *t)
{
	if (t->n == t->cap) {
		size_t n = t->cap ? t->cap * 2 : 64;
		struct chg *p = realloc(t->c, n * sizeof *p);
		if (p == NULL)
			return -ERR_NOMEM;
		t->c = p;
		t->cap = n;
	}
	return 0;
}

static int add_chg(struct pst_txn *t, uint64_t pgno, struct pst_ent e)
{
	int rc = chg_room(t);
	if (rc < 0)
		return rc;
	t->c[t->n] = (struct chg){ .pgno = pgno, .seq = t->next_seq++, .e = e };
	t->n++;
	return 0;
}

static int check_pgno(struct pst_txn *t, uint64_t pgno)
{
	if (pgno >= t->s->cur.arena_pages)
		return pst_store_seterr(t->s, -ERR_RANGE, "page %llu is outside "
			"the arena (%llu pages)", (unsigned long long)pgno,
			(unsigned long long)t->s->cur.arena_pages);
	return 0;
}

int pst_txn_put_page(struct pst_txn *t, uint64_t pgno, const void *page)
{
	if (page == NULL)
		return -ERR_INVAL;
	return pst_txn_put_page_hashed(t, pgno, page, pst_store_page_hash(page));
}

static bool all_zeros(const uint8_t *p)
{
	for (size_t i = 0; i < PST_BLK; i++)
		if (p[i] != 0)
			return false;
	return true;
}

int pst_txn_put_page_hashed(struct pst_txn *t, uint64_t pgno,
			    const void *page, uint64_t hash)
{
	if (t == NULL || page == NULL)
		return -ERR_INVAL;
	int rc = check_pgno(t, pgno);
	if (rc < 0)
		return rc;
	if (hash == PST_STORE_ZERO_HASH && all_zeros(page))
		return add_chg(t, pgno, (struct pst_ent){ 0, 0 });
	struct pst_ent e;
	if ((rc = chg_room(t)) < 0 || (rc = txn_alloc(t, &e.blk)) < 0)
		return rc;
	e.sum = pst_store_sum_of(e.blk, hash);
	/* A change is listed only once its block is gathered or written; a
	 * block that was neither is given back, so a retried put leaves the
	 * used-block count exact. */
	if ((rc = wb_put(t, e.blk, page)) < 0) {
		txn_unalloc(t, e.blk);
		return rc;
	}
	return add_chg(t, pgno, e);            /* has room: cannot fail */
}

int pst_txn_drop_page(struct pst_txn *t, uint64_t pgno)
{
	if (t == NULL)
		return -ERR_INVAL;
	int rc = check_pgno(t, pgno);
	return rc < 0 ? rc : add_chg(t, pgno, (struct pst_ent){ 0, 0 });
}

int pst_txn_set_meta(struct pst_txn *t, const void *meta, size_t len)
{
	if (t == NULL || (meta == NULL && len != 0))
		return -ERR_INVAL;
	if (len > PST_STORE_META_MAX)
		return pst_store_seterr(t->s, -ERR_RANGE, "meta blob of %zu bytes "
					"exceeds %u", len, PST_STORE_META_MAX);
	memcpy(t->meta, meta, len);
	t->meta_len = (uint32_t)len;
	return 0;
}

bool pst_txn_lost(const struct pst_txn *t)
{
	return t != NULL && t->lost;
}

/* While the other slot may hold this txn's failed commit, its blocks stay
 * allocated until the store is reopened (which rebuilds free space from the
 * live trees). Freeing them would be safe too, as no txn begins before the
 * slot is back; keeping them keeps the rule simple: nothing that slot may
 * reach is freed while it is unsure. */
void pst_txn_abort(struct pst_txn *t)
{
	if (t)
		txn_free(t, !t->s->slot_unsure);
}

static bool chg_less(const struct chg *a, const struct chg *b)
{
	return a->pgno < b->pgno || (a->pgno == b->pgno && a->seq < b->seq);
}

static void sift(struct chg *c, size_t root, size_t n)
{
	for (;;) {
		size_t k = 2 * root + 1;
		if (k >= n)
			return;
		if (k + 1 < n && chg_less(&c[k], &c[k + 1]))
			k++;
		if (!chg_less(&c[root], &c[k]))
			return;
		struct chg tmp = c[root];
		c[root] = c[k];
		c[k] = tmp;
		root = k;
	}
}

/* Heapsort by (pgno, seq), then keep the last change of each page; the
 * blocks of superseded puts were never referenced and are freed now. */
static void sort_changes(struct pst_txn *t)
{
	struct chg *c = t->c;
	size_t n = t->n;
	for (size_t i = n / 2; i-- > 0;)
		sift(c, i, n);
	for (size_t i = n; i-- > 1;) {
		struct chg tmp = c[0];
		c[0] = c[i];
		c[i] = tmp;
		sift(c, 0, i);
	}
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && c[i + 1].pgno == c[i].pgno) {
			if (c[i].e.blk) {
				pst_store_unmark(t->s, c[i].e.blk);
				t->live_delta--;
			}
			continue;
		}
		c[w++] = c[i];
	}
	t->n = w;
}

/* Path copy: the node at `level` covering pages from `first`, formerly
 * `old`, with changes c[0..n) applied, becomes *out. An unchanged node keeps
 * its block; a node with no entries left becomes absent. */
static int build(struct pst_txn *t, unsigned level, struct pst_ent old,
		 uint64_t first, const struct chg *c, size_t n,
		 struct pst_ent *out)
{
	struct pst_store *s = t->s;
	uint8_t *map = t->buf[level];
	unsigned shift = PST_FANOUT_BITS * (s->cur.levels - 1 - level);
	int rc;
	if (old.blk) {
		if ((rc = pst_store_map_read(s, old, level, first, map)) < 0)
			return rc;
	} else {
		memset(map, 0, PST_BLK);
	}
	bool changed = false;
	for (size_t i = 0, j; i < n; i = j) {
		unsigned idx = (unsigned)(c[i].pgno >> shift) & (PST_FANOUT - 1);
		for (j = i + 1; j < n && ((c[j].pgno >> shift) & (PST_FANOUT - 1)) == idx; j++)
			;
		struct pst_ent oe, ne;
		pst_ent_get(map, idx, &oe);
		if (level + 1 < s->cur.levels) {
			rc = build(t, level + 1, oe, first + ((uint64_t)idx << shift),
				   c + i, j - i, &ne);
			if (rc < 0)
				return rc;
		} else {
			ne = c[i].e;
			if (oe.blk && (rc = txn_release(t, oe.blk)) < 0)
				return rc;
		}
		if (ne.blk != oe.blk || ne.sum != oe.sum) {
			changed = true;
			pst_ent_put(map, idx, ne);
		}
	}
	if (!changed) {
		*out = old;
		return 0;
	}
	bool empty = true;
	for (unsigned i = 0; i < PST_FANOUT && empty; i++)
		empty = pst_get64(map + 16 * i) == 0;
	if (old.blk && (rc = txn_release(t, old.blk)) < 0)
		return rc;
	if (empty) {
		*out = (struct pst_ent){ 0, 0 };
		return 0;
	}
	if ((rc = txn_alloc(t, &out->blk)) < 0)
		return rc;
	out->sum = pst_store_sum(out->blk, map);
	if ((rc = pst_store_io(s, true, out->blk, map)) == 0)
		pst_store_cache_put(s, *out, map);
	return rc;
}

/* Before a commit that follows a failed one: every data block listed is
 * read back, checked and written again, so the coming flush covers it. */
static int rewrite_data(struct pst_txn *t)
{
	struct pst_store *s = t->s;
	uint8_t *page = t->buf[0];
	for (size_t i = 0; i < t->n; i++) {
		struct pst_ent e = t->c[i].e;
		if (e.blk == 0)
			continue;
		int rc = pst_store_io(s, false, e.blk, page);
		if (rc < 0) {
			t->lost = true;   /* unreadable: as good as lost */
			return rc;
		}
		if (pst_store_sum(e.blk, page) != e.sum) {
			t->lost = true;
			return pst_store_seterr(s, -ERR_IO, "epoch %llu cannot be "
				"committed: data block %llu no longer holds page "
				"%llu as written (a failed write or flush lost "
				"it); abort the txn", (unsigned long long)t->epoch,
				(unsigned long long)e.blk,
				(unsigned long long)t->c[i].pgno);
		}
		if ((rc = pst_store_io(s, true, e.blk, page)) < 0)
			return rc;
	}
	return 0;
}

static void build_undo(struct pst_txn *t, const struct build_mark *m)
{
	while (t->alloc.n > m->alloc_n)
		pst_store_unmark(t->s, t->alloc.v[--t->alloc.n]);
	t->rel.n = m->rel_n;
	t->live_delta = m->live_delta;
}

/* A failed build that the unsure slot may reach: undone in the txn's books
 * (puts after this are the txn's own, as after any failed commit), but its
 * blocks stay allocated, held until restore_other succeeds; without memory
 * to list them they stay so until the store is reopened. */
static void hold_build(struct pst_txn *t, const struct build_mark *m)
{
	for (size_t i = m->alloc_n; i < t->alloc.n; i++)
		(void)ulist_add(&t->held, t->alloc.v[i]);
	t->alloc.n = m->alloc_n;
	t->rel.n = m->rel_n;
	t->live_delta = m->live_delta;
}

int pst_txn_commit(struct pst_txn *t)
{
	if (t == NULL)
		return -ERR_INVAL;
	struct pst_store *s = t->s;
	int rc;
	if (t->lost)
		return pst_store_seterr(s, -ERR_IO, "epoch %llu cannot be "
			"committed: a data block of it was lost; abort the txn",
			(unsigned long long)t->epoch);
	if (s->slot_unsure) {
		/* The failed build's blocks go back only once no slot can
		 * point at them. */
		if ((rc = restore_other(s)) < 0)
			return rc;
		for (size_t i = 0; i < t->held.n; i++)
			pst_store_unmark(s, t->held.v[i]);
		t->held.n = 0;
	}
	struct pst_sb nsb = s->cur;
	struct build_mark mark;
	uint8_t img[PST_BLK];
	if ((rc = wb_flush(t)) < 0)
		goto failed;
	sort_changes(t);
	if (t->retry && (rc = rewrite_data(t)) < 0)
		goto failed;
	mark = (struct build_mark){ t->alloc.n, t->rel.n, t->live_delta };
	if ((rc = build(t, 0, s->cur.root, 0, t->c, t->n, &nsb.root)) < 0 ||
	    (rc = pst_store_flush(s, "data and map blocks")) < 0)
		goto undo;
	nsb.slot = s->cur.slot ^ 1;
	nsb.epoch = t->epoch;
	nsb.prev_epoch = s->cur.epoch;
	nsb.used_blocks = (uint64_t)((int64_t)s->cur.used_blocks + t->live_delta);
	nsb.meta_len = t->meta_len;
	memset(nsb.meta, 0, sizeof nsb.meta);
	memcpy(nsb.meta, t->meta, t->meta_len);
	pst_store_sb_encode(&nsb, img);
	if ((rc = pst_store_io(s, true, nsb.slot, img)) < 0 ||
	    (rc = pst_store_flush(s, "superblock")) < 0) {
		/* The slot may hold the new superblock or a torn one: put the
		 * previous bytes back so the disk matches what we report. */
		char why[sizeof s->err];
		memcpy(why, s->err, sizeof why);
		if (pst_store_io(s, true, nsb.slot, s->img[nsb.slot]) < 0 ||
		    pst_store_flush(s, "restored superblock") < 0) {
			/* The slot may point at this commit's blocks: they
			 * stay allocated until a later call restores it. */
			s->slot_unsure = true;
			hold_build(t, &mark);
			t->retry = true;
			pst_store_seterr(s, rc, "%s; restoring superblock %u failed "
					 "too: the next commit restores it first",
					 why, nsb.slot);
			return rc;
		}
		memcpy(s->err, why, sizeof why);
		goto undo;
	}
	/* Committed. The old other tree's private blocks are free now; the
	 * blocks this commit released stay protected one more commit. */
	pst_store_pend_release(s);
	uint64_t *tmp = s->pend;
	size_t cap = s->cpend;
	s->pend = t->rel.v;
	s->npend = t->rel.n;
	s->cpend = t->rel.cap;
	t->rel.v = tmp;
	t->rel.cap = cap;
	t->rel.n = 0;
	s->other_live = true;
	memcpy(s->img[nsb.slot], img, PST_BLK);
	s->cur = nsb;
	txn_free(t, false);
	return 0;
undo:
	build_undo(t, &mark);
failed:
	t->retry = true;
	return rc;
}
