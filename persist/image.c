/* image.c — puts persist/ together: store + arena + snapshot engine + delta
 * codec, and the optional snapshot clock. The sink puts each closing epoch's
 * changed pages into one store transaction and, when someone consumes deltas
 * (cfg.on_delta: replication), also encodes them as one delta against the
 * store's committed epoch (each base page read once; no decode); epoch_end
 * seals the delta and commits the transaction. A commit that fails keeps its
 * transaction, and the retried epoch_end commits it again (store.h). The
 * delta holds exactly the pages put, so a replica applying it gets the same
 * image (tests/unit/pst_image_test deltas_rebuild_a_replica compares the
 * two stores).
 *
 * A page listed dirty may be unchanged (the arena's write fault-around
 * over-approximates): its hash is compared with the committed one, which
 * the map gives without reading the page, and only equal hashes are
 * confirmed by comparing bytes. The pages put lately stay in a small cache
 * (BASE_SLOTS pages) with their hashes, so a page dirtied again in a later
 * epoch finds its base there, not on the device.
 *
 * Lock rule: store_lock guards every call into the store. It is taken by the
 * writer thread (sink) and by the fault handler on a mutator (pager). The
 * writer never waits for a mutator while holding it, so a faulting mutator
 * that waits for it always gets it. */
#include "image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "store.h"

#define BASE_SLOTS 1024u     /* base cache, direct-mapped by page: 4 MiB */

/* A cached base: page pgno as put in `epoch`, and its hash. Invariant: every
 * put or drop of a page refreshes or clears its slot, so an entry whose
 * epoch is committed (<= the store's epoch) holds the page's committed
 * contents. */
struct base_ent {
	uint64_t pgno, epoch;
	uint64_t hash;               /* pst_store_page_hash of the contents  */
	bool valid;
};

struct pst_image {
	struct pst_image_config cfg;
	bool shipping;               /* cfg.on_delta: encode deltas          */
	struct pst_store *store;
	struct pst_arena *arena;
	struct pst_snap *snap;
	plat_mutex *store_lock;

	/* Sink state; only the writer thread touches it. */
	struct pst_delta_writer *dw;
	uint64_t base_epoch;         /* store epoch the delta is against     */
	bool have_last;              /* a page was added this epoch          */
	uint64_t last_pgno;          /* last page added (repeats are no-ops) */
	uint64_t last_hash;          /* its contents' hash                   */
	bool finished;               /* delta_finish done for this epoch     */
	bool last_put;               /* last_pgno is also in txn             */
	bool end_reported;           /* a failed commit of this epoch shown  */
	struct pst_txn *txn;         /* this epoch's changes                 */
	uint64_t epoch_raw;          /* raw bytes of this epoch's pages      */
	const void *delta;
	size_t delta_len;
	uint8_t base_page[PLAT_PAGE_SIZE];
	struct base_ent *bc;         /* BASE_SLOTS entries                    */
	uint8_t *bc_data;            /* BASE_SLOTS pages                      */
	uint64_t delta_bytes, raw_bytes, pages_unchanged;

	/* The snapshot clock. */
	plat_mutex *take_lock;       /* one snapshot request at a time       */
	plat_mutex *clock_lock;
	plat_cond *clock_cond;
	plat_thread *clock;
	bool clock_stop;
};

/* ---- pager: the fault handler's view of the store ----------------------- */

static int pager_page_in(void *ctx, uint64_t pgno, void *buf, bool *present)
{
	struct pst_image *img = ctx;
	plat_mutex_lock(img->store_lock);
	int rc = pst_store_read_page(img->store, pgno, buf, present);
	if (rc < 0)
		plat_printf("persist: cannot page in page %llu: %s\n",
			    (unsigned long long)pgno,
			    pst_store_last_error(img->store));
	plat_mutex_unlock(img->store_lock);
	return rc;
}

static int pager_unstored_run(void *ctx, uint64_t pgno, uint32_t max,
			      uint32_t *count)
{
	struct pst_image *img = ctx;
	plat_mutex_lock(img->store_lock);
	int rc = pst_store_unstored_run(img->store, pgno, max, count);
	plat_mutex_unlock(img->store_lock);
	return rc;
}

/* ---- sink: the snapshot writer's side ----------------------------------- */

static void txn_drop(struct pst_image *img)
{
	if (img->txn != NULL) {
		pst_txn_abort(img->txn);
		img->txn = NULL;
	}
}

static int sink_begin(void *ctx, uint64_t epoch)
{
	struct pst_image *img = ctx;
	plat_mutex_lock(img->store_lock);
	txn_drop(img);               /* a failed begin's, if repeated */
	img->base_epoch = pst_store_epoch(img->store);
	int rc = pst_txn_begin(img->store, epoch, &img->txn);
	if (rc < 0) {
		img->txn = NULL;
		plat_printf("persist: epoch %llu not begun: %s\n",
			    (unsigned long long)epoch,
			    pst_store_last_error(img->store));
	}
	plat_mutex_unlock(img->store_lock);
	if (rc < 0)
		return rc;
	img->have_last = false;
	img->finished = false;
	img->end_reported = false;
	img->epoch_raw = 0;
	return img->shipping ? pst_delta_begin(img->dw, epoch, img->base_epoch)
			     : 0;
}

/* The engine repeats a failed call with the same page: adding it twice
 * would be refused, so a page already added is a no-op. */
static bool already_added(struct pst_image *img, uint64_t pgno)
{
	return img->have_last && img->last_pgno == pgno;
}

static void mark_added(struct pst_image *img, uint64_t pgno, uint64_t hash)
{
	img->have_last = true;
	img->last_pgno = pgno;
	img->last_hash = hash;
	img->last_put = false;
}

/* The added page's change into this epoch's txn (contents NULL: unused);
 * a repeated call after a failed put repeats only the put. */
static int put_direct(struct pst_image *img, uint64_t pgno,
		      const void *contents)
{
	if (img->last_put)
		return 0;
	plat_mutex_lock(img->store_lock);
	int rc = contents ? pst_txn_put_page_hashed(img->txn, pgno, contents,
						    img->last_hash)
			  : pst_txn_drop_page(img->txn, pgno);
	if (rc < 0)
		plat_printf("persist: page %llu not stored: %s\n",
			    (unsigned long long)pgno,
			    pst_store_last_error(img->store));
	plat_mutex_unlock(img->store_lock);
	if (rc == 0)
		img->last_put = true;
	return rc;
}

/* The cache's entry for page pgno when it holds the committed page. */
static struct base_ent *cached_base(struct pst_image *img, uint64_t pgno)
{
	struct base_ent *be = &img->bc[pgno % BASE_SLOTS];
	return be->valid && be->pgno == pgno && be->epoch <= img->base_epoch
		? be : NULL;
}

/* The committed page's hash, from the cache or from the store's map. */
static int committed_hash(struct pst_image *img, uint64_t pgno,
			  uint64_t *hash)
{
	struct base_ent *be = cached_base(img, pgno);
	if (be != NULL) {
		*hash = be->hash;
		return 0;
	}
	plat_mutex_lock(img->store_lock);
	int rc = pst_store_page_hash_at(img->store, pgno, hash);
	plat_mutex_unlock(img->store_lock);
	return rc;
}

/* The page's contents at the store's epoch (NULL: absent, zeros). */
static int base_of(struct pst_image *img, uint64_t pgno, const void **base)
{
	struct base_ent *be = cached_base(img, pgno);
	if (be != NULL) {
		*base = img->bc_data + (size_t)(be - img->bc) * PLAT_PAGE_SIZE;
		return 0;
	}
	bool present = false;
	uint64_t hash;
	plat_mutex_lock(img->store_lock);
	int rc = pst_store_read_page_hashed(img->store, pgno, img->base_page,
					    &present, &hash);
	plat_mutex_unlock(img->store_lock);
	*base = present ? img->base_page : NULL;
	return rc < 0 ? rc : 0;
}

static void base_remember(struct pst_image *img, uint64_t epoch,
			  uint64_t pgno, const void *contents, uint64_t hash)
{
	uint32_t slot = (uint32_t)(pgno % BASE_SLOTS);
	struct base_ent *be = &img->bc[slot];
	if (contents == NULL) {          /* dropped: forget it */
		if (be->pgno == pgno)
			be->valid = false;
		return;
	}
	memcpy(img->bc_data + (size_t)slot * PLAT_PAGE_SIZE, contents,
	       PLAT_PAGE_SIZE);
	*be = (struct base_ent){ .pgno = pgno, .epoch = epoch, .hash = hash,
				 .valid = true };
}

/* True when contents equal the committed base (NULL: zeros). */
static bool unchanged(const void *base, const void *contents)
{
	if (base != NULL)
		return memcmp(base, contents, PLAT_PAGE_SIZE) == 0;
	const uint64_t *w = contents;
	for (size_t i = 0; i < PLAT_PAGE_SIZE / 8; i++)
		if (w[i] != 0)
			return false;
	return true;
}

/* Page pgno's contents of this epoch, unless they equal the committed page
 * (then PST_SINK_UNCHANGED): into the delta when shipping, and kept as the
 * page's next base. */
static int add_page(struct pst_image *img, uint64_t epoch, uint64_t pgno,
		    const void *contents)
{
	uint64_t hash = pst_store_page_hash(contents), committed;
	int rc = committed_hash(img, pgno, &committed);
	if (rc < 0)
		return rc;
	/* Different hashes prove a change; equal ones must be confirmed. The
	 * delta needs the base either way. */
	const void *base = NULL;
	if (hash == committed || img->shipping) {
		if ((rc = base_of(img, pgno, &base)) < 0)
			return rc;
		if (hash == committed && unchanged(base, contents)) {
			img->pages_unchanged++;
			return PST_SINK_UNCHANGED;
		}
	}
	if (img->shipping) {
		uint8_t le[8];
		for (int i = 0; i < 8; i++)
			le[i] = (uint8_t)(committed >> (8 * i));
		rc = pst_delta_add_page_hashed(img->dw, pgno, base, le, contents);
		if (rc < 0)
			return rc;
	}
	mark_added(img, pgno, hash);
	base_remember(img, epoch, pgno, contents, hash);
	img->epoch_raw += PLAT_PAGE_SIZE;
	return 0;
}

static int sink_page(void *ctx, uint64_t epoch, uint64_t pgno,
		     const void *contents)
{
	struct pst_image *img = ctx;
	if (!already_added(img, pgno)) {
		int rc = add_page(img, epoch, pgno, contents);
		if (rc != 0)
			return rc;           /* an error or PST_SINK_UNCHANGED */
	}
	return put_direct(img, pgno, contents);
}

static int sink_unused(void *ctx, uint64_t epoch, uint64_t pgno)
{
	struct pst_image *img = ctx;
	if (!already_added(img, pgno)) {
		if (img->shipping) {
			int rc = pst_delta_add_unused(img->dw, pgno);
			if (rc < 0)
				return rc;
		}
		mark_added(img, pgno, PST_STORE_ZERO_HASH);
		base_remember(img, epoch, pgno, NULL, 0);
	}
	return put_direct(img, pgno, NULL);
}

/* Commits the epoch's txn. A failed commit keeps it, and the engine's retry
 * commits it again (after a failed superblock write whose slot could not
 * be put back either, that retry puts it back first). If the store found a
 * block of it lost, the epoch can never commit: the txn goes, and the
 * engine carries the epoch's pages into the next one (PST_SINK_LOST). */
static int sink_end(void *ctx, uint64_t epoch)
{
	struct pst_image *img = ctx;
	int rc;
	if (img->shipping && !img->finished) {
		rc = pst_delta_finish(img->dw, &img->delta, &img->delta_len);
		if (rc < 0)
			return rc;
		img->finished = true;
	}

	plat_mutex_lock(img->store_lock);
	rc = pst_txn_commit(img->txn);
	if (rc == 0)
		img->txn = NULL;              /* committed: the txn is gone */
	else if (!img->end_reported)
		plat_printf("persist: epoch %llu not committed: %s (%s)\n",
			    (unsigned long long)epoch, err_str(rc),
			    pst_store_last_error(img->store));
	bool lost = rc < 0 && pst_txn_lost(img->txn);
	if (lost)
		txn_drop(img);
	plat_mutex_unlock(img->store_lock);
	if (lost) {
		/* The cache's entries of this epoch would pass for committed
		 * once a later epoch commits: forget them all. */
		for (uint32_t i = 0; i < BASE_SLOTS; i++)
			img->bc[i].valid = false;
		return PST_SINK_LOST;
	}
	if (rc < 0) {
		img->end_reported = true;
		return rc;
	}

	img->raw_bytes += img->epoch_raw;
	if (img->cfg.on_commit)
		img->cfg.on_commit(img->cfg.cb_ctx, epoch);
	if (img->shipping) {
		img->delta_bytes += img->delta_len;
		img->cfg.on_delta(img->cfg.cb_ctx, epoch, img->delta,
				  img->delta_len);
	}
	return 0;
}

/* ---- the snapshot clock -------------------------------------------------- */

static void clock_main(void *arg)
{
	struct pst_image *img = arg;
	plat_mutex_lock(img->clock_lock);
	while (!img->clock_stop) {
		uint64_t deadline = plat_monotonic_ns() + img->cfg.interval_ns;
		while (!img->clock_stop &&
		       plat_cond_wait_until(img->clock_cond, img->clock_lock,
					    deadline) != -ERR_TIMEDOUT)
			;
		if (img->clock_stop)
			break;
		plat_mutex_unlock(img->clock_lock);
		plat_mutex_lock(img->take_lock);
		int rc = pst_snap_take(img->snap, NULL);
		plat_mutex_unlock(img->take_lock);
		if (rc < 0)
			plat_printf("persist: snapshot failed: %s\n", err_str(rc));
		plat_mutex_lock(img->clock_lock);
	}
	plat_mutex_unlock(img->clock_lock);
}

/* ---- open and close ------------------------------------------------------ */

static void image_free(struct pst_image *img)
{
	if (img->snap)
		pst_snap_close(img->snap);
	if (img->arena)
		pst_arena_close(img->arena);
	txn_drop(img);
	if (img->store)
		pst_store_close(img->store);
	if (img->dw)
		pst_delta_writer_free(img->dw);
	if (img->clock_cond)
		plat_cond_free(img->clock_cond);
	if (img->clock_lock)
		plat_mutex_free(img->clock_lock);
	if (img->take_lock)
		plat_mutex_free(img->take_lock);
	if (img->store_lock)
		plat_mutex_free(img->store_lock);
	free(img->bc);
	free(img->bc_data);
	free(img);
}

/* The writer holds store_lock for each store call but not across its
 * device writes and flushes: a mutator paging in (the arena's pager takes
 * the lock) would otherwise wait out every write-behind and commit. */
static void store_unlock(void *ctx)
{
	plat_mutex_unlock(((struct pst_image *)ctx)->store_lock);
}

static void store_relock(void *ctx)
{
	plat_mutex_lock(((struct pst_image *)ctx)->store_lock);
}

/* Everything after the store is open: arena, engine, clock. */
static int image_start(struct pst_image *img, char *why, size_t whylen)
{
	pst_store_set_io_unlock(img->store, store_unlock, store_relock, img);
	img->bc = calloc(BASE_SLOTS, sizeof *img->bc);
	img->bc_data = malloc((size_t)BASE_SLOTS * PLAT_PAGE_SIZE);
	int rc = img->bc && img->bc_data ? 0 : -ERR_NOMEM;
	if (rc == 0 && img->shipping)
		rc = pst_delta_writer_new(&img->dw);
	if (rc == 0)
		rc = plat_mutex_new(&img->take_lock);
	if (rc == 0)
		rc = plat_mutex_new(&img->clock_lock);
	if (rc == 0)
		rc = plat_cond_new(&img->clock_cond);
	if (rc < 0) {
		snprintf(why, whylen, "cannot set up the image: %s", err_str(rc));
		return rc;
	}

	struct pst_arena_config ac = {
		.size = pst_store_arena_pages(img->store) * PLAT_PAGE_SIZE,
		.pager = { .ctx = img, .page_in = pager_page_in,
			   .unstored_run = pager_unstored_run },
		.cow_pages = img->cfg.cow_pages,
	};
	rc = pst_arena_open(&ac, &img->arena);
	if (rc < 0) {
		snprintf(why, whylen, "cannot map the arena (%llu bytes at 0x%llx): %s",
			 (unsigned long long)ac.size,
			 (unsigned long long)PLAT_ARENA_BASE, err_str(rc));
		return rc;
	}
	struct pst_snap_config sc = {
		.arena = img->arena,
		.sink = { .ctx = img, .epoch_begin = sink_begin,
			  .page = sink_page, .page_unused = sink_unused,
			  .epoch_end = sink_end },
		.world = img->cfg.world,
		.committed_epoch = pst_store_epoch(img->store),
	};
	rc = pst_snap_open(&sc, &img->snap);
	if (rc < 0) {
		snprintf(why, whylen, "cannot start the snapshot writer: %s",
			 err_str(rc));
		return rc;
	}
	if (img->cfg.interval_ns) {
		rc = plat_thread_create(&img->clock, clock_main, img, "pst-clock");
		if (rc < 0) {
			snprintf(why, whylen, "cannot start the snapshot clock: %s",
				 err_str(rc));
			return rc;
		}
	}
	return 0;
}

static int image_new(const struct pst_image_config *cfg,
		     struct pst_image **out, char *why, size_t whylen)
{
	if (cfg == NULL || cfg->blk == NULL || cfg->world.stop == NULL) {
		snprintf(why, whylen, "invalid image configuration");
		return -ERR_INVAL;
	}
	struct pst_image *img = calloc(1, sizeof *img);
	if (img == NULL)
		return -ERR_NOMEM;
	img->cfg = *cfg;
	img->shipping = cfg->on_delta != NULL;
	int rc = plat_mutex_new(&img->store_lock);
	if (rc < 0) {
		free(img);
		return rc;
	}
	*out = img;
	return 0;
}

int pst_image_create(const struct pst_image_config *cfg,
		     struct pst_image **out, char *why, size_t whylen)
{
	struct pst_image *img;
	why[0] = 0;
	int rc = image_new(cfg, &img, why, whylen);
	if (rc < 0)
		return rc;
	if (cfg->arena_size == 0 || cfg->arena_size % PLAT_PAGE_SIZE ||
	    cfg->arena_size > PLAT_ARENA_MAX) {
		snprintf(why, whylen, "arena size %llu is not a page multiple "
			 "in (0, %llu]", (unsigned long long)cfg->arena_size,
			 (unsigned long long)PLAT_ARENA_MAX);
		image_free(img);
		return -ERR_INVAL;
	}
	rc = pst_store_format(cfg->blk, cfg->arena_size / PLAT_PAGE_SIZE,
			      &img->store);
	if (rc < 0) {
		snprintf(why, whylen, "cannot format %s: %s", cfg->blk->name,
			 err_str(rc));
		image_free(img);
		return rc;
	}
	rc = image_start(img, why, whylen);
	if (rc < 0) {
		image_free(img);
		return rc;
	}
	*out = img;
	return 0;
}

int pst_image_open(const struct pst_image_config *cfg, struct pst_image **out,
		   char *why, size_t whylen)
{
	struct pst_image *img;
	why[0] = 0;
	int rc = image_new(cfg, &img, why, whylen);
	if (rc < 0)
		return rc;
	rc = pst_store_open(cfg->blk, &img->store, why, whylen);
	if (rc < 0) {
		image_free(img);
		return rc;
	}
	/* A fallback, or a predecessor discarded as damaged: worth a line. */
	if (pst_store_notice(img->store)[0] != 0)
		plat_printf("persist: %s\n", pst_store_notice(img->store));
	rc = image_start(img, why, whylen);
	if (rc < 0) {
		image_free(img);
		return rc;
	}
	*out = img;
	return 0;
}

void pst_image_stop_clock(struct pst_image *img)
{
	if (img->clock) {
		plat_mutex_lock(img->clock_lock);
		img->clock_stop = true;
		plat_cond_broadcast(img->clock_cond);
		plat_mutex_unlock(img->clock_lock);
		plat_thread_join(img->clock);
		img->clock = NULL;
	}
}

int pst_image_close(struct pst_image *img, bool final)
{
	int rc = 0;
	pst_image_stop_clock(img);
	if (final)
		rc = pst_image_sync(img, 600000000000ull, NULL);  /* 10 min */
	int rc2 = pst_snap_close(img->snap);
	img->snap = NULL;
	if (rc == 0)
		rc = rc2;
	image_free(img);
	return rc;
}

uint64_t pst_image_committed_epoch(struct pst_image *img)
{
	plat_mutex_lock(img->store_lock);
	uint64_t e = pst_store_epoch(img->store);
	plat_mutex_unlock(img->store_lock);
	return e;
}

int pst_image_sync(struct pst_image *img, uint64_t timeout_ns, uint64_t *epoch)
{
	uint64_t e, deadline = plat_monotonic_ns() + timeout_ns;
	int rc;
	do {        /* again while the epoch taken is lost (snapshot.h) */
		plat_mutex_lock(img->take_lock);
		rc = pst_snap_take(img->snap, &e);
		plat_mutex_unlock(img->take_lock);
		if (rc < 0)
			return rc;
		if (epoch)
			*epoch = e;
		uint64_t now = plat_monotonic_ns();
		rc = pst_snap_wait(img->snap, e, now < deadline ? deadline - now : 0);
	} while (rc == -ERR_AGAIN);
	return rc;
}

void *pst_image_base(const struct pst_image *img)
{
	return pst_arena_base(img->arena);
}

uint64_t pst_image_size(const struct pst_image *img)
{
	return pst_arena_pages(img->arena) * PLAT_PAGE_SIZE;
}

struct pst_snap *pst_image_snap(struct pst_image *img) { return img->snap; }
struct pst_arena *pst_image_arena(struct pst_image *img) { return img->arena; }

void pst_image_stats(struct pst_image *img, struct pst_image_stats *out)
{
	memset(out, 0, sizeof *out);
	pst_snap_stats(img->snap, &out->snap);
	pst_arena_stats(img->arena, &out->arena);
	out->delta_bytes = img->delta_bytes;
	out->raw_bytes = img->raw_bytes;
	out->pages_unchanged = img->pages_unchanged;
}
