/* pst_mutator_test.c — how a parked mutator waits out a world stop
 * (pst_park_wait, persist/mutator.h): it returns only once the stop is
 * over, with the mutex held, whether the stop ends while it still spins or
 * only after it has gone to sleep on the condition; and the registry's
 * stop/resume around mutators that poll, park and block. */
#include <stdatomic.h>
#include <stdio.h>

#include "check.h"
#include "../../kernel/hosted/hosted.h"
#include "../../persist/mutator.h"

struct parked {
	plat_mutex *mu;
	plat_cond *cv;
	unsigned stopped;
	atomic_int returned;     /* 1: pst_park_wait returned             */
	unsigned seen;           /* stopped as read under mu on return    */
};

static void parked_thread(void *arg)
{
	struct parked *p = arg;
	plat_mutex_lock(p->mu);
	pst_park_wait(p->mu, p->cv, &p->stopped);
	p->seen = p->stopped;          /* mu held: the resumer cannot race */
	atomic_store(&p->returned, 1);
	plat_mutex_unlock(p->mu);
}

/* One parked thread, a stop that lasts `ns`: it must still be waiting just
 * before the end, and come back with the stop over. */
static int park_for(uint64_t ns, char *why, size_t n)
{
	struct parked p = { .stopped = 1 };
	plat_thread *t;
	if (plat_mutex_new(&p.mu) != 0 || plat_cond_new(&p.cv) != 0 ||
	    plat_thread_create(&t, parked_thread, &p, "parked") != 0) {
		snprintf(why, n, "setup failed");
		return -1;
	}
	plat_sleep_ns(ns);
	int early = atomic_load(&p.returned);
	plat_mutex_lock(p.mu);
	__atomic_store_n(&p.stopped, 0, __ATOMIC_RELEASE);
	plat_cond_broadcast(p.cv);
	plat_mutex_unlock(p.mu);
	plat_thread_join(t);
	plat_cond_free(p.cv);
	plat_mutex_free(p.mu);
	if (early || !atomic_load(&p.returned) || p.seen != 0) {
		snprintf(why, n, "returned early %d, returned %d, stopped %u",
			 early, atomic_load(&p.returned), p.seen);
		return -1;
	}
	return 0;
}

TEST(a_short_stop_ends_while_spinning)
{
	char why[128];
	CHECKF(park_for(PST_PARK_SPIN_NS / 4, why, sizeof why) == 0, "%s", why);
}

TEST(a_long_stop_ends_in_sleep)
{
	char why[128];
	CHECKF(park_for(3 * PST_PARK_SPIN_NS, why, sizeof why) == 0, "%s", why);
}

/* The registry: stop returns with every mutator parked (their counters
 * frozen), a blocked one counts as parked, resume lets them run on. */
struct spinner {
	struct pst_mut_registry *r;
	atomic_ulong steps;
	atomic_int quit;
};

static void spinner_thread(void *arg)
{
	struct spinner *s = arg;
	struct pst_mutator *m;
	if (pst_mut_register(s->r, &m) != 0)
		return;
	while (!atomic_load(&s->quit)) {
		pst_mut_poll(m);
		atomic_fetch_add(&s->steps, 1);
	}
	pst_mut_unregister(m);
}

TEST(stop_parks_every_mutator_and_resume_releases_them)
{
	static struct spinner s[2];
	struct pst_mut_registry *r;
	CHECK_EQ(pst_mut_registry_new(&r), 0);
	plat_thread *t[2];
	for (int i = 0; i < 2; i++) {
		s[i] = (struct spinner){ .r = r };
		CHECK_EQ(plat_thread_create(&t[i], spinner_thread, &s[i], "spin"), 0);
	}
	struct pst_mutator *blocked;
	CHECK_EQ(pst_mut_register(r, &blocked), 0);
	pst_mut_block(blocked);                   /* parked for the stop */
	while (atomic_load(&s[0].steps) == 0 || atomic_load(&s[1].steps) == 0)
		plat_thread_yield();
	for (int round = 0; round < 20; round++) {
		pst_mut_stop(r);
		unsigned long a = atomic_load(&s[0].steps), b = atomic_load(&s[1].steps);
		plat_sleep_ns(round % 2 ? 3 * PST_PARK_SPIN_NS : 100000);
		CHECK_EQ(atomic_load(&s[0].steps), a);   /* parked in a poll */
		CHECK_EQ(atomic_load(&s[1].steps), b);
		pst_mut_resume(r);
		while (atomic_load(&s[0].steps) == a || atomic_load(&s[1].steps) == b)
			plat_thread_yield();
	}
	for (int i = 0; i < 2; i++) {
		atomic_store(&s[i].quit, 1);
		plat_thread_join(t[i]);
	}
	pst_mut_unblock(blocked);
	pst_mut_unregister(blocked);
	pst_mut_registry_free(r);
}

int main(void)
{
	check_begin("pst_mutator_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_mutator_test/init: plat_hosted_init\n");
		return 1;
	}
	RUN(a_short_stop_ends_while_spinning);
	RUN(a_long_stop_ends_in_sleep);
	RUN(stop_parks_every_mutator_and_resume_releases_them);
	return check_done();
}
