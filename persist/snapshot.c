/* snapshot.c — the snapshot engine: epoch numbers, the snapshot instant
 * (prepare, stop, pst_arena_epoch_cut, resume), and the writer thread that
 * sorts the closing epoch's pages and saves them through the sink with
 * retries, then commits it. The copy-on-write and its bounded slot pool sit
 * in the arena's fault path (arena.c). */
#include <stdatomic.h>
#include <stdlib.h>

#include "snapshot.h"

#define WRITER_TICK_NS   (5u * 1000u * 1000u)   /* leaf-reserve refill poll */
#define RETRY_MIN_NS     (1u * 1000u * 1000u)
#define RETRY_MAX_NS     (100u * 1000u * 1000u)

/* mu guards every field below it; the writer owns `batch` while busy. mu is
 * never held across the world stop or a sink call. */
struct pst_snap {
	struct pst_arena *arena;
	struct pst_sink sink;
	struct pst_world world;
	plat_thread *writer;
	uint8_t *wbuf;               /* writer's page copy */

	plat_mutex *mu;
	plat_cond *cv;               /* broadcast on busy/committed/shutdown */
	uint64_t current;            /* the open epoch                       */
	uint64_t committed;
	bool taking;                 /* a take() is between stop and resume  */
	bool busy;                   /* `batch` of epoch `writing` pending   */
	uint64_t writing;
	struct pst_arena_batch batch;
	bool shutdown;
	uint64_t lost;               /* latest epoch lost (PST_SINK_LOST)    */
	int failed;                  /* writer gave up (only at close)       */
	struct pst_snap_stats st;
	_Atomic bool stopping;       /* shutdown, readable without mu        */
};

enum sink_op { OP_BEGIN, OP_PAGE, OP_UNUSED, OP_END };

static int sink_once(struct pst_snap *s, enum sink_op op, uint64_t epoch,
		     uint32_t pgno, const void *contents)
{
	switch (op) {
	case OP_BEGIN:
		return s->sink.epoch_begin(s->sink.ctx, epoch);
	case OP_PAGE:
		return s->sink.page(s->sink.ctx, epoch, pgno, contents);
	case OP_UNUSED:
		return s->sink.page_unused(s->sink.ctx, epoch, pgno);
	case OP_END:
		return s->sink.epoch_end(s->sink.ctx, epoch);
	}
	return -ERR_INVAL;
}

/* One sink call, repeated until it succeeds or close() is under way. */
static int sink_call(struct pst_snap *s, enum sink_op op, uint64_t epoch,
		     uint32_t pgno, const void *contents, bool *reported)
{
	static const char *const names[] = { "epoch_begin", "page",
					     "page_unused", "epoch_end" };
	uint64_t delay = RETRY_MIN_NS;
	for (;;) {
		int rc = sink_once(s, op, epoch, pgno, contents);
		if (rc == 0 || (op == OP_PAGE && rc == PST_SINK_UNCHANGED) ||
		    (op == OP_END && rc == PST_SINK_LOST))
			return rc;
		plat_mutex_lock(s->mu);
		s->st.sink_errors++;
		s->st.last_error = rc;
		plat_mutex_unlock(s->mu);
		if (!*reported) {
			plat_printf("pst_snap: sink %s failed for epoch %llu "
				    "(page %u): %s; retrying\n", names[op],
				    (unsigned long long)epoch, pgno,
				    err_str(rc));
			*reported = true;
		}
		if (atomic_load(&s->stopping))
			return rc;
		plat_sleep_ns(delay);
		delay = delay * 2 > RETRY_MAX_NS ? RETRY_MAX_NS : delay * 2;
	}
}

static int write_epoch(struct pst_snap *s, uint64_t epoch,
		       struct pst_arena_batch *b)
{
	bool reported = false;
	uint64_t saved = 0, unused = 0;
	/* The instant left the batch unsorted; the sink wants it ascending. */
	while (pst_arena_batch_sort(b) != 0)
		plat_sleep_ns(RETRY_MIN_NS);
	int rc = sink_call(s, OP_BEGIN, epoch, 0, NULL, &reported);
	for (size_t i = 0; rc == 0 && i < b->count; i++) {
		const void *contents = NULL;
		uint32_t pg = b->pages[i];
		int kind = pst_arena_save_page(s->arena, pg, s->wbuf, &contents);
		if (kind < 0)
			plat_panic("pst_snap: page %u of epoch %llu is not "
				   "pending: %s", pg, (unsigned long long)epoch,
				   err_str(kind));
		if (kind == PST_SAVE_PAGE) {
			rc = sink_call(s, OP_PAGE, epoch, pg, contents, &reported);
			saved++;
		} else {
			rc = sink_call(s, OP_UNUSED, epoch, pg, NULL, &reported);
			unused++;
		}
		if (rc == PST_SINK_UNCHANGED) {
			rc = 0;
			pst_arena_save_unchanged(s->arena, pg);
		} else if (rc == 0) {
			pst_arena_save_done(s->arena, pg);
		}
		if (i % 16 == 15)
			pst_arena_refill(s->arena);
	}
	if (rc == 0)
		rc = sink_call(s, OP_END, epoch, 0, NULL, &reported);
	plat_mutex_lock(s->mu);
	s->st.pages_saved += saved;
	s->st.pages_unused += unused;
	plat_mutex_unlock(s->mu);
	return rc;
}

static void writer_main(void *arg)
{
	struct pst_snap *s = arg;
	plat_mutex_lock(s->mu);
	for (;;) {
		if (!s->busy && s->shutdown)
			break;
		if (!s->busy) {
			/* Idle: keep the arena's leaf reserve full, so fault
			 * handlers that need a leaf wait at most one tick. */
			plat_mutex_unlock(s->mu);
			pst_arena_refill(s->arena);
			plat_mutex_lock(s->mu);
			if (!s->busy && !s->shutdown)
				plat_cond_wait_until(s->cv, s->mu,
					plat_monotonic_ns() + WRITER_TICK_NS);
			continue;
		}
		uint64_t epoch = s->writing;
		plat_mutex_unlock(s->mu);
		int rc = write_epoch(s, epoch, &s->batch);
		if (rc == PST_SINK_LOST) {
			/* Saved, so no page is pending: each goes back on
			 * the open epoch's list. */
			for (size_t i = 0; i < s->batch.count; i++)
				pst_arena_save_lost(s->arena, s->batch.pages[i]);
			plat_printf("pst_snap: epoch %llu was lost by the device; "
				    "its pages go into the next epoch\n",
				    (unsigned long long)epoch);
		}
		plat_mutex_lock(s->mu);
		if (rc < 0) {
			s->failed = rc;     /* no commit; unsaved pages stay pending */
			plat_cond_broadcast(s->cv);
			break;
		}
		if (rc == PST_SINK_LOST) {
			s->lost = epoch;
			s->st.epochs_lost++;
		} else {
			s->committed = epoch;
			s->st.epochs_committed++;
		}
		pst_arena_batch_free(&s->batch);
		s->busy = false;
		plat_cond_broadcast(s->cv);
	}
	plat_mutex_unlock(s->mu);
}

int pst_snap_open(const struct pst_snap_config *cfg, struct pst_snap **out)
{
	if (cfg == NULL || out == NULL || cfg->arena == NULL ||
	    cfg->sink.epoch_begin == NULL || cfg->sink.page == NULL ||
	    cfg->sink.page_unused == NULL || cfg->sink.epoch_end == NULL ||
	    cfg->world.stop == NULL || cfg->world.resume == NULL ||
	    cfg->committed_epoch == UINT64_MAX)
		return -ERR_INVAL;
	struct pst_snap *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -ERR_NOMEM;
	s->arena = cfg->arena;
	s->sink = cfg->sink;
	s->world = cfg->world;
	s->committed = cfg->committed_epoch;
	s->current = cfg->committed_epoch + 1;
	int rc = -ERR_NOMEM;
	if ((s->wbuf = malloc(PLAT_PAGE_SIZE)) == NULL)
		goto err;
	if ((rc = plat_mutex_new(&s->mu)) != 0)
		goto err;
	if ((rc = plat_cond_new(&s->cv)) != 0)
		goto err_mu;
	if ((rc = plat_thread_create(&s->writer, writer_main, s,
				     "pst-writer")) != 0)
		goto err_cv;
	*out = s;
	return 0;

err_cv:
	plat_cond_free(s->cv);
err_mu:
	plat_mutex_free(s->mu);
err:
	free(s->wbuf);
	free(s);
	return rc;
}

int pst_snap_close(struct pst_snap *s)
{
	if (s == NULL)
		return -ERR_INVAL;
	plat_mutex_lock(s->mu);
	s->shutdown = true;
	atomic_store(&s->stopping, true);
	plat_cond_broadcast(s->cv);
	plat_mutex_unlock(s->mu);
	plat_thread_join(s->writer);
	int rc = s->failed;
	pst_arena_batch_free(&s->batch);
	plat_cond_free(s->cv);
	plat_mutex_free(s->mu);
	free(s->wbuf);
	free(s);
	return rc;
}

int pst_snap_take(struct pst_snap *s, uint64_t *epoch)
{
	plat_mutex_lock(s->mu);
	while ((s->busy || s->taking) && !s->failed && !s->shutdown)
		plat_cond_wait(s->cv, s->mu);
	int rc = s->failed ? s->failed : s->shutdown ? -ERR_CLOSED : 0;
	if (rc != 0) {
		plat_mutex_unlock(s->mu);
		return rc;
	}
	s->taking = true;
	uint64_t closing = s->current;
	plat_mutex_unlock(s->mu);

	/* The instant, without mu: a mutator being parked may be waiting in
	 * its fault handler for the writer to refill leaves, and the writer
	 * takes mu between refills. */
	struct pst_arena_batch b;
	pst_arena_epoch_prepare(s->arena);     /* optional: errors ignored */
	uint64_t t0 = plat_monotonic_ns();
	s->world.stop(s->world.ctx);
	rc = pst_arena_epoch_cut(s->arena, &b);   /* sorted by the writer */
	s->world.resume(s->world.ctx);
	uint64_t pause = plat_monotonic_ns() - t0;

	plat_mutex_lock(s->mu);
	s->taking = false;
	if (rc == 0) {
		s->current = closing + 1;
		s->st.last_pause_ns = pause;
		s->st.last_pause_pages = b.count;
		if (pause > s->st.max_pause_ns)
			s->st.max_pause_ns = pause;
		s->batch = b;
		s->writing = closing;
		s->busy = true;
		if (epoch != NULL)
			*epoch = closing;
	}
	plat_cond_broadcast(s->cv);
	plat_mutex_unlock(s->mu);
	return rc;
}

int pst_snap_wait(struct pst_snap *s, uint64_t epoch, uint64_t timeout_ns)
{
	uint64_t deadline = plat_monotonic_ns() + timeout_ns;
	int rc = 0;
	plat_mutex_lock(s->mu);
	while (s->committed < epoch && rc == 0) {
		if (s->failed)
			rc = s->failed;
		else if (!s->busy && s->current <= epoch)
			rc = -ERR_INVAL;    /* not taken: would wait forever */
		else if (!s->busy && !s->taking && s->lost >= epoch)
			rc = -ERR_AGAIN;    /* lost, and nothing after it yet */
		else
			rc = plat_cond_wait_until(s->cv, s->mu, deadline);
	}
	plat_mutex_unlock(s->mu);
	return rc;
}

uint64_t pst_snap_committed_epoch(struct pst_snap *s)
{
	plat_mutex_lock(s->mu);
	uint64_t e = s->committed;
	plat_mutex_unlock(s->mu);
	return e;
}

uint64_t pst_snap_current_epoch(struct pst_snap *s)
{
	plat_mutex_lock(s->mu);
	uint64_t e = s->current;
	plat_mutex_unlock(s->mu);
	return e;
}

void pst_snap_stats(struct pst_snap *s, struct pst_snap_stats *out)
{
	plat_mutex_lock(s->mu);
	*out = s->st;
	plat_mutex_unlock(s->mu);
}
