/* outcommit.c — the held-output buffer behind outcommit.h: bytes in write
 * order, cut into runs that each carry the epoch they were written in.
 * Invariant: runs[0..nruns) have non-decreasing epochs and their lengths sum
 * to `held`, the bytes at buf[0..held). A commit releases a prefix. A run
 * is console output (chan NULL), bytes for a socket, or a socket's close
 * (len 0); console and socket runs share the one buffer and bound. */
#include <stdlib.h>
#include <string.h>

#include "plat.h"
#include "outcommit.h"

#define OC_DEFAULT_CAPACITY (64u * 1024u)

struct oc_run {
	uint64_t epoch;
	size_t len;
	void *chan;                  /* NULL: the console                    */
	bool close;                  /* chan's deferred close, no bytes      */
};

struct repl_oc {
	struct repl_oc_config cfg;
	plat_mutex *mu;              /* guards everything below; the sink is
				      * called under it, which keeps order */
	plat_cond *room;             /* signalled when bytes are released    */
	char *buf;
	size_t held, bufcap;
	struct oc_run *runs;
	size_t nruns, runcap;
	uint64_t committed;          /* highest epoch committed so far       */
};

int repl_oc_new(const struct repl_oc_config *cfg, struct repl_oc **out)
{
	if (cfg == NULL || cfg->sink == NULL)
		return -ERR_INVAL;
	struct repl_oc *oc = calloc(1, sizeof *oc);
	if (oc == NULL)
		return -ERR_NOMEM;
	oc->cfg = *cfg;
	if (oc->cfg.capacity == 0)
		oc->cfg.capacity = OC_DEFAULT_CAPACITY;
	int rc = plat_mutex_new(&oc->mu);
	if (rc == 0 && (rc = plat_cond_new(&oc->room)) != 0)
		plat_mutex_free(oc->mu);
	if (rc != 0) {
		free(oc);
		return rc;
	}
	*out = oc;
	return 0;
}

/* Sends one run (or a direct write) to its sink. */
static void oc_emit(struct repl_oc *oc, void *chan, bool close, const char *s,
		    size_t len)
{
	if (chan == NULL)
		oc->cfg.sink(oc->cfg.sink_ctx, s, len);
	else
		oc->cfg.net_sink(oc->cfg.net_ctx, chan, close ? NULL : s,
				 close ? 0 : len);
}

void repl_oc_free(struct repl_oc *oc)
{
	if (oc == NULL)
		return;
	/* Held bytes die with the process's view of them; a held close still
	 * happens, or its socket would leak. */
	for (size_t i = 0; i < oc->nruns; i++)
		if (oc->runs[i].close)
			oc_emit(oc, oc->runs[i].chan, true, NULL, 0);
	plat_cond_free(oc->room);
	plat_mutex_free(oc->mu);
	free(oc->buf);
	free(oc->runs);
	free(oc);
}

/* Makes room for len more bytes and one more run; false when out of memory. */
static bool oc_reserve(struct repl_oc *oc, size_t len)
{
	if (oc->held + len > oc->bufcap) {
		size_t cap = oc->bufcap ? oc->bufcap : 4096;
		while (cap < oc->held + len)
			cap *= 2;
		char *b = realloc(oc->buf, cap);
		if (b == NULL)
			return false;
		oc->buf = b;
		oc->bufcap = cap;
	}
	if (oc->nruns == oc->runcap) {
		size_t cap = oc->runcap ? oc->runcap * 2 : 16;
		struct oc_run *r = realloc(oc->runs, cap * sizeof *r);
		if (r == NULL)
			return false;
		oc->runs = r;
		oc->runcap = cap;
	}
	return true;
}

static bool oc_put(struct repl_oc *oc, uint64_t epoch, void *chan, bool close,
		   const char *s, size_t len)
{
	if (!oc->cfg.hold) {
		oc_emit(oc, chan, close, s, len);
		return false;
	}
	if (len == 0 && !close)
		return false;
	plat_mutex_lock(oc->mu);
	bool full;
	if (epoch <= oc->committed && oc->nruns == 0) {
		/* Already durable (a write from an epoch that has committed
		 * meanwhile): nothing older is held, so order is kept. */
		oc_emit(oc, chan, close, s, len);
		full = false;
	} else if (!oc_reserve(oc, len)) {
		/* Uncommitted output may be neither dropped nor released,
		 * and the heap is the only place to hold it. */
		plat_mutex_unlock(oc->mu);
		plat_panic("outcommit: out of memory holding %zu bytes", len);
	} else {
		if (len > 0)
			memcpy(oc->buf + oc->held, s, len);
		oc->held += len;
		struct oc_run *last = oc->nruns ? &oc->runs[oc->nruns - 1] : NULL;
		if (last && !close && !last->close && last->epoch == epoch &&
		    last->chan == chan)
			last->len += len;
		else
			oc->runs[oc->nruns++] = (struct oc_run){ epoch, len, chan, close };
		full = oc->held >= oc->cfg.capacity;
	}
	plat_mutex_unlock(oc->mu);
	return full;
}

bool repl_oc_write(struct repl_oc *oc, uint64_t epoch, const char *s,
		   size_t len)
{
	return oc_put(oc, epoch, NULL, false, s, len);
}

bool repl_oc_write_net(struct repl_oc *oc, uint64_t epoch, void *chan,
		       const char *s, size_t len)
{
	if (oc->cfg.net_sink == NULL || chan == NULL)
		return false;
	return oc_put(oc, epoch, chan, false, s, len);
}

void repl_oc_close_net(struct repl_oc *oc, uint64_t epoch, void *chan)
{
	if (oc->cfg.net_sink == NULL || chan == NULL)
		return;
	oc_put(oc, epoch, chan, true, NULL, 0);
}

void repl_oc_commit(struct repl_oc *oc, uint64_t epoch)
{
	plat_mutex_lock(oc->mu);
	if (epoch > oc->committed)
		oc->committed = epoch;
	size_t n = 0, bytes = 0;
	while (n < oc->nruns && oc->runs[n].epoch <= epoch) {
		/* Console runs of consecutive epochs go out as one write. */
		const struct oc_run *r = &oc->runs[n++];
		size_t len = r->len;
		while (r->chan == NULL && n < oc->nruns &&
		       oc->runs[n].epoch <= epoch && oc->runs[n].chan == NULL)
			len += oc->runs[n++].len;
		oc_emit(oc, r->chan, r->close, oc->buf + bytes, len);
		bytes += len;
	}
	if (n > 0) {
		memmove(oc->buf, oc->buf + bytes, oc->held - bytes);
		memmove(oc->runs, oc->runs + n, (oc->nruns - n) * sizeof *oc->runs);
		oc->held -= bytes;
		oc->nruns -= n;
		plat_cond_broadcast(oc->room);
	}
	plat_mutex_unlock(oc->mu);
}

int repl_oc_wait_room(struct repl_oc *oc, uint64_t deadline_ns)
{
	int rc = 0;
	plat_mutex_lock(oc->mu);
	while (oc->held >= oc->cfg.capacity && rc == 0)
		rc = plat_cond_wait_until(oc->room, oc->mu, deadline_ns);
	if (oc->held < oc->cfg.capacity)
		rc = 0;
	plat_mutex_unlock(oc->mu);
	return rc;
}

size_t repl_oc_held(struct repl_oc *oc)
{
	plat_mutex_lock(oc->mu);
	size_t n = oc->held;
	plat_mutex_unlock(oc->mu);
	return n;
}

bool repl_oc_full(struct repl_oc *oc)
{
	return repl_oc_held(oc) >= oc->cfg.capacity;
}
