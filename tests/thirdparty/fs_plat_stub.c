/* fs_plat_stub.c — a single-threaded platform for the freestanding lwIP link
 * test: locks are counters (a lock taken twice is a bug and halts), waits
 * and threads are unsupported, time and entropy come from fs_start.c. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "fs_test.h"
#include "plat.h"

struct plat_mutex { int held; };
struct plat_cond { int unused; };
static struct plat_mutex mutexes[64];
static struct plat_cond conds[64];
static int nmutex, ncond;

static int mutex_new(plat_mutex **m)
{
	if (nmutex == 64)
		return -ERR_NOMEM;
	*m = &mutexes[nmutex++];
	return 0;
}

static void mutex_free(plat_mutex *m) { (void)m; }

static void mutex_lock(plat_mutex *m)
{
	if (m->held++)
		plat_panic("stub mutex locked twice (would deadlock)");
}

static void mutex_unlock(plat_mutex *m)
{
	if (m->held-- != 1)
		plat_panic("stub mutex unlocked while not held");
}

static int cond_new(plat_cond **c)
{
	if (ncond == 64)
		return -ERR_NOMEM;
	*c = &conds[ncond++];
	return 0;
}

static void cond_free(plat_cond *c) { (void)c; }
static void cond_wait(plat_cond *c, plat_mutex *m) { (void)c; (void)m; plat_panic("stub: cond_wait with one thread"); }
static int cond_wait_until(plat_cond *c, plat_mutex *m, uint64_t d) { (void)c; (void)m; (void)d; return -ERR_TIMEDOUT; }
static void cond_nop(plat_cond *c) { (void)c; }

static int thread_create(plat_thread **t, plat_thread_fn fn, void *arg, const char *name)
{
	(void)t; (void)fn; (void)arg; (void)name;
	return -ERR_NOTSUP;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int entropy(void *buf, size_t len) { return fs_getrandom(buf, len) ? -ERR_IO : 0; }

static void console_write(const char *s, size_t len) { printf("%.*s", (int)len, s); }

__attribute__((noreturn)) static void halt(const char *why)
{
	printf("FAIL: fs_lwip/halt: %s\n", why);
	abort();
}

static const struct plat_ops stub_ops = {
	.version = PLAT_ABI_VERSION,
	.name = "fs-stub",
	.thread_create = thread_create,
	.mutex_new = mutex_new, .mutex_free = mutex_free,
	.mutex_lock = mutex_lock, .mutex_unlock = mutex_unlock,
	.cond_new = cond_new, .cond_free = cond_free, .cond_wait = cond_wait,
	.cond_wait_until = cond_wait_until, .cond_signal = cond_nop,
	.cond_broadcast = cond_nop,
	.monotonic_ns = monotonic_ns, .wall_ns = monotonic_ns,
	.entropy = entropy, .console_write = console_write, .halt = halt,
};

void fs_plat_stub_install(void)
{
	if (plat_install(&stub_ops) != 0)
		halt("plat_install refused the stub");
}
