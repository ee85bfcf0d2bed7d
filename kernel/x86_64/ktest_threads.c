/* ktest_threads.c — in-kernel tests of kernel threads (test=threads): mutual
 * exclusion, preemption of a thread that never yields, condition variables
 * with and without deadlines, sleep, join and thread-slot reuse; and
 * test=stackoverflow, which must end in the double-fault panic dump. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console.h"
#include "ksync.h"
#include "ktest.h"
#include "kthread.h"
#include "timer.h"

#define MS 1000000ul

static struct ksync_mutex kt_m;
static struct ksync_cond kt_c;
static volatile uint64_t kt_counter;

static void adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		ksync_mutex_lock(&kt_m);
		uint64_t v = kt_counter;
		if (i % 7 == 0)
			kthread_yield();        /* invite a lost update */
		kt_counter = v + 1;
		ksync_mutex_unlock(&kt_m);
	}
}

static volatile bool spin_stop;
static volatile uint64_t spin_count;

static void spinner(void *arg)
{
	(void)arg;
	while (!spin_stop)
		spin_count++;
}

/* Bounded queue of 4 between a producer and a consumer. */
static int q_items[4];
static unsigned q_head, q_len;
static uint64_t q_sum;
static struct ksync_cond q_nonempty, q_nonfull;

static void producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= 500; i++) {
		ksync_mutex_lock(&kt_m);
		while (q_len == 4)
			ksync_cond_wait(&q_nonfull, &kt_m);
		q_items[(q_head + q_len++) % 4] = i;
		ksync_cond_signal(&q_nonempty);
		ksync_mutex_unlock(&kt_m);
	}
}

static void consumer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= 500; i++) {
		ksync_mutex_lock(&kt_m);
		while (q_len == 0)
			ksync_cond_wait(&q_nonempty, &kt_m);
		q_sum += (uint64_t)q_items[q_head];
		q_head = (q_head + 1) % 4;
		q_len--;
		ksync_cond_signal(&q_nonfull);
		ksync_mutex_unlock(&kt_m);
	}
}

static void late_signaller(void *arg)
{
	(void)arg;
	kthread_sleep_ns(5 * MS);
	ksync_mutex_lock(&kt_m);
	ksync_cond_signal(&kt_c);
	ksync_mutex_unlock(&kt_m);
}

static void nothing(void *arg)
{
	*(int *)arg += 1;
}

void ktest_threads(void)
{
	struct kthread *t[4];
	bool ok = true;

	for (int i = 0; i < 4; i++)
		ok &= kthread_create(&t[i], adder, NULL, "adder") == 0;
	for (int i = 0; i < 4; i++)
		ok &= kthread_join(t[i]) == 0;
	KT_CHECK(ok && kt_counter == 8000, "mutex_excludes");

	/* The spinner never yields; main busy-waits too: only preemption
	 * lets either see the other's progress. */
	ok = kthread_create(&t[0], spinner, NULL, "spinner") == 0;
	uint64_t t0 = timer_monotonic_ns();
	while (spin_count == 0 && timer_monotonic_ns() - t0 < 2000 * MS)
		;
	KT_CHECK(ok && spin_count > 0, "preempts_busy_main");
	spin_stop = true;
	KT_CHECK(kthread_join(t[0]) == 0, "join_spinner");

	ok = kthread_create(&t[0], producer, NULL, "producer") == 0 &&
	     kthread_create(&t[1], consumer, NULL, "consumer") == 0;
	ok &= kthread_join(t[0]) == 0 && kthread_join(t[1]) == 0;
	KT_CHECK(ok && q_sum == 500 * 501 / 2 && q_len == 0, "condvar_queue");

	ksync_mutex_lock(&kt_m);
	t0 = timer_monotonic_ns();
	int rc = ksync_cond_wait_until(&kt_c, &kt_m, t0 + 20 * MS);
	uint64_t dt = timer_monotonic_ns() - t0;
	KT_CHECK(rc == -ERR_TIMEDOUT && dt >= 20 * MS && dt < 200 * MS, "cond_deadline_expires");
	KT_CHECK(kt_m.owner == kthread_current(), "cond_timeout_relocks");

	ok = kthread_create(&t[0], late_signaller, NULL, "signaller") == 0;
	t0 = timer_monotonic_ns();
	rc = ksync_cond_wait_until(&kt_c, &kt_m, t0 + 1000 * MS);
	dt = timer_monotonic_ns() - t0;
	ksync_mutex_unlock(&kt_m);
	KT_CHECK(ok && rc == 0 && dt >= 4 * MS && dt < 500 * MS, "cond_signal_before_deadline");
	KT_CHECK(kthread_join(t[0]) == 0, "join_signaller");

	t0 = timer_monotonic_ns();
	kthread_sleep_ns(30 * MS);
	dt = timer_monotonic_ns() - t0;
	KT_CHECK(dt >= 30 * MS && dt < 100 * MS, "sleep_duration");

	/* More threads than table slots, one after another: join frees. */
	int runs = 0;
	ok = true;
	for (int i = 0; i < 150 && ok; i++)
		ok = kthread_create(&t[0], nothing, &runs, "short") == 0 &&
		     kthread_join(t[0]) == 0;
	KT_CHECK(ok && runs == 150, "slots_reused");
	KT_CHECK(kthread_join(kthread_current()) == -ERR_INVAL, "self_join_refused");
	kprintf("threads: spinner ran %lu iterations before main saw it\n", spin_count);
	kt_finish();
}

/* Deep recursion with a large frame; the guard page under the stack stops
 * it, and the double fault (on its own stack) prints the dump. */
static volatile uint64_t recurse_limit = UINT64_MAX;   /* never reached */

static __attribute__((noinline)) uint64_t recurse(uint64_t depth)
{
	volatile uint8_t frame[1024];
	frame[0] = (uint8_t)depth;
	if (depth == recurse_limit)
		return 0;
	return recurse(depth + 1) + frame[0];
}

static void overflower(void *arg)
{
	(void)arg;
	recurse(0);
}

void ktest_stackoverflow(void)
{
	struct kthread *t;
	KT_CHECK(kthread_create(&t, overflower, NULL, "overflower") == 0, "create");
	kthread_join(t);
	kt_check(false, "overflow", "the overflowing thread returned");
	kt_finish();
}
