/* mutator.c — the mutator registry: safepoint polls, blocked regions and the
 * stop/resume pair behind struct pst_world. One mutex and one condition guard
 * the counts; the poll's fast path is a single atomic load of `stop`. */
#include <stdlib.h>

#include "mutator.h"

struct pst_mut_registry {
	plat_mutex *mu;
	plat_cond *cv;           /* broadcast on every change below     */
	unsigned stop;           /* written under mu; polled without it */
	int running;             /* registered, not parked, not blocked */
};

struct pst_mutator {
	struct pst_mut_registry *r;
	bool blocked;            /* under r->mu */
};

int pst_mut_registry_new(struct pst_mut_registry **out)
{
	struct pst_mut_registry *r = calloc(1, sizeof *r);
	if (r == NULL)
		return -ERR_NOMEM;
	int rc = plat_mutex_new(&r->mu);
	if (rc == 0 && (rc = plat_cond_new(&r->cv)) != 0)
		plat_mutex_free(r->mu);
	if (rc != 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void pst_mut_registry_free(struct pst_mut_registry *r)
{
	if (r == NULL)
		return;
	plat_cond_free(r->cv);
	plat_mutex_free(r->mu);
	free(r);
}

void pst_park_wait(plat_mutex *mu, plat_cond *cv, const unsigned *stopped)
{
	if (__atomic_load_n(stopped, __ATOMIC_ACQUIRE) == 0)
		return;
	plat_mutex_unlock(mu);
	uint64_t until = plat_monotonic_ns() + PST_PARK_SPIN_NS;
	while (__atomic_load_n(stopped, __ATOMIC_ACQUIRE) != 0 &&
	       plat_monotonic_ns() < until)
		plat_thread_yield();
	plat_mutex_lock(mu);
	while (__atomic_load_n(stopped, __ATOMIC_ACQUIRE) != 0)
		plat_cond_wait(cv, mu);
}

static void wait_while_stopped(struct pst_mut_registry *r)
{
	pst_park_wait(r->mu, r->cv, &r->stop);
}

int pst_mut_register(struct pst_mut_registry *r, struct pst_mutator **out)
{
	struct pst_mutator *m = calloc(1, sizeof *m);
	if (m == NULL)
		return -ERR_NOMEM;
	m->r = r;
	plat_mutex_lock(r->mu);
	wait_while_stopped(r);
	r->running++;
	plat_mutex_unlock(r->mu);
	*out = m;
	return 0;
}

void pst_mut_unregister(struct pst_mutator *m)
{
	struct pst_mut_registry *r = m->r;
	plat_mutex_lock(r->mu);
	if (!m->blocked)
		r->running--;
	plat_cond_broadcast(r->cv);
	plat_mutex_unlock(r->mu);
	free(m);
}

void pst_mut_poll(struct pst_mutator *m)
{
	struct pst_mut_registry *r = m->r;
	if (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
		return;
	plat_mutex_lock(r->mu);
	r->running--;
	plat_cond_broadcast(r->cv);
	wait_while_stopped(r);
	r->running++;
	plat_mutex_unlock(r->mu);
}

void pst_mut_block(struct pst_mutator *m)
{
	plat_mutex_lock(m->r->mu);
	if (!m->blocked) {
		m->blocked = true;
		m->r->running--;
		plat_cond_broadcast(m->r->cv);
	}
	plat_mutex_unlock(m->r->mu);
}

void pst_mut_unblock(struct pst_mutator *m)
{
	plat_mutex_lock(m->r->mu);
	if (m->blocked) {
		wait_while_stopped(m->r);
		m->blocked = false;
		m->r->running++;
	}
	plat_mutex_unlock(m->r->mu);
}

void pst_mut_stop(struct pst_mut_registry *r)
{
	plat_mutex_lock(r->mu);
	wait_while_stopped(r);
	__atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
	while (r->running > 0)
		plat_cond_wait(r->cv, r->mu);
	plat_mutex_unlock(r->mu);
}

void pst_mut_resume(struct pst_mut_registry *r)
{
	plat_mutex_lock(r->mu);
	__atomic_store_n(&r->stop, 0, __ATOMIC_RELEASE);
	plat_cond_broadcast(r->cv);
	plat_mutex_unlock(r->mu);
}

static void world_stop(void *ctx) { pst_mut_stop(ctx); }
static void world_resume(void *ctx) { pst_mut_resume(ctx); }

struct pst_world pst_mut_world(struct pst_mut_registry *r)
{
	return (struct pst_world){ .ctx = r, .stop = world_stop,
				   .resume = world_resume };
}
