/* hosted_thread.c — threads, mutexes, condition variables, sleeping and the
 * clocks of the hosted platform, over pthreads and clock_gettime. Condition
 * variables wait on CLOCK_MONOTONIC, the clock plat_monotonic_ns() reads, so
 * deadlines from the core mean the same thing to both. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hosted.h"

struct plat_thread {
	pthread_t tid;
	plat_thread_fn fn;
	void *arg;
	char name[16];       /* Linux thread names hold 15 bytes */
};

struct plat_mutex {
	pthread_mutex_t m;
};

struct plat_cond {
	pthread_cond_t c;
};

static struct timespec thread_ts(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	return ts;
}

static uint64_t thread_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A failed lock operation means corrupted or misused lock state: a broken
 * invariant, not an error the caller could handle. */
static void thread_check(int rc, const char *what)
{
	if (rc != 0) {
		char why[96];
		snprintf(why, sizeof why, "%s: %s", what, strerror(rc));
		hosted_halt(why);
	}
}

static void *thread_main(void *p)
{
	struct plat_thread *t = p;
	if (t->name[0] != 0)
		pthread_setname_np(pthread_self(), t->name);
	/* Without an alternate stack the fault hook still runs, on the thread's
	 * own stack; failing to get one is not a reason to fail the thread. */
	hosted_altstack_push();
	t->fn(t->arg);
	hosted_altstack_pop();
	return NULL;
}

int hosted_thread_create(plat_thread **out, plat_thread_fn fn, void *arg,
			 const char *name)
{
	if (out == NULL || fn == NULL)
		return -ERR_INVAL;
	struct plat_thread *t = calloc(1, sizeof *t);
	if (t == NULL)
		return -ERR_NOMEM;
	t->fn = fn;
	t->arg = arg;
	if (name != NULL)
		snprintf(t->name, sizeof t->name, "%s", name);
	int rc = pthread_create(&t->tid, NULL, thread_main, t);
	if (rc != 0) {
		free(t);
		return hosted_err(rc);
	}
	*out = t;
	return 0;
}

int hosted_thread_join(plat_thread *t)
{
	if (t == NULL)
		return -ERR_INVAL;
	int rc = pthread_join(t->tid, NULL);
	if (rc != 0)
		return hosted_err(rc);
	free(t);
	return 0;
}

void hosted_thread_yield(void)
{
	sched_yield();
}

int hosted_mutex_new(plat_mutex **out)
{
	if (out == NULL)
		return -ERR_INVAL;
	struct plat_mutex *m = malloc(sizeof *m);
	if (m == NULL)
		return -ERR_NOMEM;
	int rc = pthread_mutex_init(&m->m, NULL);
	if (rc != 0) {
		free(m);
		return hosted_err(rc);
	}
	*out = m;
	return 0;
}

void hosted_mutex_free(plat_mutex *m)
{
	if (m == NULL)
		return;
	thread_check(pthread_mutex_destroy(&m->m), "mutex_free");
	free(m);
}

void hosted_mutex_lock(plat_mutex *m)
{
	thread_check(pthread_mutex_lock(&m->m), "mutex_lock");
}

void hosted_mutex_unlock(plat_mutex *m)
{
	thread_check(pthread_mutex_unlock(&m->m), "mutex_unlock");
}

int hosted_cond_new(plat_cond **out)
{
	if (out == NULL)
		return -ERR_INVAL;
	struct plat_cond *c = malloc(sizeof *c);
	if (c == NULL)
		return -ERR_NOMEM;
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (rc == 0) {
		rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		if (rc == 0)
			rc = pthread_cond_init(&c->c, &attr);
		pthread_condattr_destroy(&attr);
	}
	if (rc != 0) {
		free(c);
		return hosted_err(rc);
	}
	*out = c;
	return 0;
}

void hosted_cond_free(plat_cond *c)
{
	if (c == NULL)
		return;
	thread_check(pthread_cond_destroy(&c->c), "cond_free");
	free(c);
}

void hosted_cond_wait(plat_cond *c, plat_mutex *m)
{
	thread_check(pthread_cond_wait(&c->c, &m->m), "cond_wait");
}

int hosted_cond_wait_until(plat_cond *c, plat_mutex *m, uint64_t deadline_ns)
{
	struct timespec ts = thread_ts(deadline_ns);
	int rc = pthread_cond_timedwait(&c->c, &m->m, &ts);
	if (rc == ETIMEDOUT)
		return -ERR_TIMEDOUT;
	thread_check(rc, "cond_wait_until");
	return 0;
}

void hosted_cond_signal(plat_cond *c)
{
	thread_check(pthread_cond_signal(&c->c), "cond_signal");
}

void hosted_cond_broadcast(plat_cond *c)
{
	thread_check(pthread_cond_broadcast(&c->c), "cond_broadcast");
}

void hosted_sleep_ns(uint64_t ns)
{
	/* An absolute deadline, so signals (EINTR) do not stretch the sleep. */
	uint64_t now = hosted_monotonic_ns();
	uint64_t until = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
	struct timespec ts = thread_ts(until);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

uint64_t hosted_monotonic_ns(void)
{
	return thread_clock(CLOCK_MONOTONIC);
}

uint64_t hosted_wall_ns(void)
{
	return thread_clock(CLOCK_REALTIME);
}
