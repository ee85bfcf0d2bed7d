/* plat_thread_test.c — the hosted platform's threads, mutexes, condition
 * variables (signal, broadcast, monotonic deadlines), sleep and clocks. Timing
 * checks are lower bounds only: a loaded machine may always be slower. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "hosted.h"

#define MS 1000000ull

/* --- many threads, one counter --------------------------------------- */
enum { CNT_THREADS = 8, CNT_ITERS = 50000 };
static plat_mutex *cnt_lock;
static long cnt_value;

static void cnt_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < CNT_ITERS; i++) {
		plat_mutex_lock(cnt_lock);
		long v = cnt_value;
		if ((i & 255) == 0)
			plat_thread_yield();    /* widen the window for a lost update */
		cnt_value = v + 1;
		plat_mutex_unlock(cnt_lock);
	}
}

TEST(mutex_counts_every_increment)
{
	plat_thread *t[CNT_THREADS];
	CHECK_EQ(plat_mutex_new(&cnt_lock), 0);
	for (int i = 0; i < CNT_THREADS; i++)
		CHECK_EQ(plat_thread_create(&t[i], cnt_worker, NULL, "counter"), 0);
	for (int i = 0; i < CNT_THREADS; i++)
		CHECK_EQ(plat_thread_join(t[i]), 0);
	CHECK_EQ(cnt_value, (long)CNT_THREADS * CNT_ITERS);
	plat_mutex_free(cnt_lock);
}

/* --- thread names and arguments -------------------------------------- */
static char name_seen[32];
static int arg_seen;

static void name_worker(void *arg)
{
	arg_seen = *(int *)arg;
	pthread_getname_np(pthread_self(), name_seen, sizeof name_seen);
}

TEST(thread_gets_name_and_arg)
{
	plat_thread *t;
	int arg = 4242;
	CHECK_EQ(plat_thread_create(&t, name_worker, &arg,
				    "a-very-long-thread-name"), 0);
	CHECK_EQ(plat_thread_join(t), 0);
	CHECK_EQ(arg_seen, 4242);
	CHECKF(strcmp(name_seen, "a-very-long-thr") == 0, "name '%s'", name_seen);
	CHECK_EQ(plat_thread_create(NULL, name_worker, &arg, "x"), -ERR_INVAL);
	CHECK_EQ(plat_thread_create(&t, NULL, &arg, "x"), -ERR_INVAL);
}

/* --- condition variables ---------------------------------------------- */
enum { WAITERS = 4 };
static plat_mutex *cv_lock;
static plat_cond *cv;
static int cv_ready, cv_go, cv_woken;

static void cv_waiter(void *arg)
{
	(void)arg;
	plat_mutex_lock(cv_lock);
	cv_ready++;
	plat_cond_broadcast(cv);          /* tell the test we are waiting */
	int my_go = cv_go;
	while (cv_go == my_go)
		plat_cond_wait(cv, cv_lock);
	cv_woken++;
	plat_cond_broadcast(cv);
	plat_mutex_unlock(cv_lock);
}

/* Waits (bounded) until *v reaches want, under cv_lock. */
static bool cv_wait_for(int *v, int want)
{
	uint64_t deadline = plat_monotonic_ns() + 10000 * MS;
	bool ok = true;
	plat_mutex_lock(cv_lock);
	while (*v < want && ok)
		ok = plat_cond_wait_until(cv, cv_lock, deadline) == 0 || *v >= want;
	plat_mutex_unlock(cv_lock);
	return ok;
}

TEST(cond_signal_and_broadcast_wake)
{
	plat_thread *t[WAITERS];
	CHECK_EQ(plat_mutex_new(&cv_lock), 0);
	CHECK_EQ(plat_cond_new(&cv), 0);
	for (int i = 0; i < WAITERS; i++)
		CHECK_EQ(plat_thread_create(&t[i], cv_waiter, NULL, "waiter"), 0);
	CHECK(cv_wait_for(&cv_ready, WAITERS));
	/* Each broadcast changes cv_go; all waiters see it and leave. */
	plat_mutex_lock(cv_lock);
	cv_go++;
	plat_cond_broadcast(cv);
	plat_mutex_unlock(cv_lock);
	CHECK(cv_wait_for(&cv_woken, WAITERS));
	for (int i = 0; i < WAITERS; i++)
		CHECK_EQ(plat_thread_join(t[i]), 0);

	/* signal: one waiter, woken by a single signal (no broadcast). */
	cv_ready = cv_woken = 0;
	CHECK_EQ(plat_thread_create(&t[0], cv_waiter, NULL, "waiter"), 0);
	CHECK(cv_wait_for(&cv_ready, 1));
	plat_mutex_lock(cv_lock);
	cv_go++;
	plat_cond_signal(cv);
	plat_mutex_unlock(cv_lock);
	CHECK(cv_wait_for(&cv_woken, 1));
	CHECK_EQ(plat_thread_join(t[0]), 0);
	plat_cond_free(cv);
	plat_mutex_free(cv_lock);
}

TEST(cond_wait_until_times_out)
{
	plat_mutex *m;
	plat_cond *c;
	CHECK_EQ(plat_mutex_new(&m), 0);
	CHECK_EQ(plat_cond_new(&c), 0);
	uint64_t t0 = plat_monotonic_ns();
	uint64_t deadline = t0 + 50 * MS;
	plat_mutex_lock(m);
	int rc;
	do                                /* spurious wakeups return 0 */
		rc = plat_cond_wait_until(c, m, deadline);
	while (rc == 0 && plat_monotonic_ns() < deadline);
	plat_mutex_unlock(m);
	uint64_t t1 = plat_monotonic_ns();
	CHECK_EQ(rc, -ERR_TIMEDOUT);
	CHECKF(t1 >= deadline, "woke %lld ns early", (long long)(deadline - t1));
	/* A deadline already past returns at once with a timeout. */
	plat_mutex_lock(m);
	rc = plat_cond_wait_until(c, m, t0);
	plat_mutex_unlock(m);
	CHECK_EQ(rc, -ERR_TIMEDOUT);
	plat_cond_free(c);
	plat_mutex_free(m);
}

static void cv_signaller(void *arg)
{
	(void)arg;
	plat_sleep_ns(20 * MS);
	plat_mutex_lock(cv_lock);
	cv_go++;
	plat_cond_signal(cv);
	plat_mutex_unlock(cv_lock);
}

TEST(cond_wait_until_signalled_returns_0)
{
	plat_thread *t;
	CHECK_EQ(plat_mutex_new(&cv_lock), 0);
	CHECK_EQ(plat_cond_new(&cv), 0);
	plat_mutex_lock(cv_lock);
	int go = cv_go, rc = 0;
	CHECK_EQ(plat_thread_create(&t, cv_signaller, NULL, "signaller"), 0);
	uint64_t deadline = plat_monotonic_ns() + 20000 * MS;
	while (cv_go == go && rc == 0)
		rc = plat_cond_wait_until(cv, cv_lock, deadline);
	plat_mutex_unlock(cv_lock);
	CHECK_EQ(rc, 0);
	CHECK(cv_go != go);
	CHECK(plat_monotonic_ns() < deadline);
	CHECK_EQ(plat_thread_join(t), 0);
	plat_cond_free(cv);
	plat_mutex_free(cv_lock);
}

/* --- sleep and clocks ---------------------------------------------------- */
TEST(sleep_lasts_at_least)
{
	uint64_t t0 = plat_monotonic_ns();
	plat_sleep_ns(30 * MS);
	uint64_t dt = plat_monotonic_ns() - t0;
	CHECKF(dt >= 30 * MS, "slept %llu ns", (unsigned long long)dt);
	t0 = plat_monotonic_ns();
	plat_sleep_ns(0);
	CHECK(plat_monotonic_ns() >= t0);
}

TEST(monotonic_never_decreases)
{
	uint64_t prev = plat_monotonic_ns();
	uint64_t first = prev;
	for (int i = 0; i < 200000; i++) {
		uint64_t now = plat_monotonic_ns();
		CHECKF(now >= prev, "went back %llu ns",
		       (unsigned long long)(prev - now));
		prev = now;
	}
	CHECK(prev > first);              /* and it does advance */
	struct timespec ts;               /* same clock the conds wait on */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t sys = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint64_t ours = plat_monotonic_ns();
	CHECK(ours >= sys && ours - sys < 1000 * MS);
}

TEST(wall_is_unix_time)
{
	uint64_t w = plat_wall_ns();
	long long now = (long long)time(NULL);
	long long ws = (long long)(w / 1000000000ull);
	CHECKF(ws >= now - 2 && ws <= now + 2, "wall %lld s, time() %lld", ws, now);
}

int main(void)
{
	check_begin("plat_thread_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: plat_thread_test/init: plat_hosted_init failed\n");
		return 1;
	}
	RUN(mutex_counts_every_increment);
	RUN(thread_gets_name_and_arg);
	RUN(cond_signal_and_broadcast_wake);
	RUN(cond_wait_until_times_out);
	RUN(cond_wait_until_signalled_returns_0);
	RUN(sleep_lasts_at_least);
	RUN(monotonic_never_decreases);
	RUN(wall_is_unix_time);
	return check_done();
}
