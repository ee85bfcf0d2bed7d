/* xplat.c — struct plat_ops for x86_64: the arena (xarena.c), kernel threads
 * and ksync locks, PIT/RTC time, virtio-blk devices by name ("vda".."vdd"),
 * the entropy source, the serial console. No network yet: the socket entries
 * answer -ERR_NONET. Objects handed out (mutexes, conds) come from the kernel
 * libc's malloc. */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "entropy.h"
#include "ksync.h"
#include "kthread.h"
#include "timer.h"
#include "trap.h"
#include "virtio_blk.h"
#include "xarena.h"
#include "xplat.h"

static int x_thread_create(plat_thread **t, plat_thread_fn fn, void *arg, const char *name)
{
	struct kthread *k;
	int rc = kthread_create(&k, fn, arg, name);
	if (rc == 0)
		*t = (plat_thread *)k;
	return rc;
}

static int x_thread_join(plat_thread *t) { return kthread_join((struct kthread *)t); }

static int x_mutex_new(plat_mutex **m)
{
	*m = calloc(1, sizeof(struct ksync_mutex));
	return *m ? 0 : -ERR_NOMEM;
}

static void x_mutex_free(plat_mutex *m) { free(m); }
static void x_mutex_lock(plat_mutex *m) { ksync_mutex_lock((struct ksync_mutex *)m); }
static void x_mutex_unlock(plat_mutex *m) { ksync_mutex_unlock((struct ksync_mutex *)m); }

static int x_cond_new(plat_cond **c)
{
	*c = calloc(1, sizeof(struct ksync_cond));
	return *c ? 0 : -ERR_NOMEM;
}

static void x_cond_free(plat_cond *c) { free(c); }

static void x_cond_wait(plat_cond *c, plat_mutex *m)
{
	ksync_cond_wait((struct ksync_cond *)c, (struct ksync_mutex *)m);
}

static int x_cond_wait_until(plat_cond *c, plat_mutex *m, uint64_t deadline)
{
	/* 0 would mean "no deadline" to ksync: it is long past anyway. */
	return ksync_cond_wait_until((struct ksync_cond *)c, (struct ksync_mutex *)m,
				     deadline ? deadline : 1);
}

static void x_cond_signal(plat_cond *c) { ksync_cond_signal((struct ksync_cond *)c); }
static void x_cond_broadcast(plat_cond *c) { ksync_cond_broadcast((struct ksync_cond *)c); }

static int x_blk_open(const char *name, uint32_t flags, uint64_t create_size,
		      struct plat_blk **b)
{
	if (name == NULL || strlen(name) != 3 || name[0] != 'v' || name[1] != 'd' ||
	    name[2] < 'a' || name[2] > 'd')
		return -ERR_NOENT;
	int rc = drv_vblk_open((unsigned)(name[2] - 'a'), b);
	/* Devices have a fixed size: "create" succeeds if it is big enough. */
	if (rc == 0 && (flags & PLAT_BLK_CREATE) && (*b)->size < create_size)
		rc = -ERR_RANGE;
	return rc;
}

static int x_console_read(char *buf, size_t len, uint64_t timeout_ns)
{
	uint64_t deadline = timer_monotonic_ns() + timeout_ns;
	for (;;) {
		size_t n = con_read_lines(buf, len);   /* whole typed lines */
		if (n > 0 || len == 0 || timer_monotonic_ns() >= deadline)
			return (int)n;
		kthread_sleep_ns(1000000);      /* polled UART: 1 ms */
	}
}

static int x_no_listen(const char *h, uint16_t p, plat_sock **s)
{
	(void)h; (void)p; (void)s;
	return -ERR_NONET;
}

static int x_no_accept(plat_sock *l, plat_sock **s, uint64_t t)
{
	(void)l; (void)s; (void)t;
	return -ERR_NONET;
}

static int x_no_connect(const char *h, uint16_t p, plat_sock **s, uint64_t t)
{
	(void)h; (void)p; (void)s; (void)t;
	return -ERR_NONET;
}

static long x_no_recv(plat_sock *s, void *b, size_t n, uint64_t t)
{
	(void)s; (void)b; (void)n; (void)t;
	return -ERR_NONET;
}

static int x_no_send(plat_sock *s, const void *b, size_t n)
{
	(void)s; (void)b; (void)n;
	return -ERR_NONET;
}

static int x_no_port(plat_sock *s) { (void)s; return -ERR_NONET; }
static void x_no_close(plat_sock *s) { (void)s; }

static void __attribute__((noreturn)) x_halt(const char *why)
{
	kpanic("halt: %s", why ? why : "(no reason)");
}

static const struct plat_ops plat_x86_ops = {
	.version = PLAT_ABI_VERSION,
	.name = "x86_64",

	.arena_reserve = xarena_reserve,
	.arena_release = xarena_release,
	.mem_protect = xarena_protect,
	.mem_discard = xarena_discard,
	.page_fill = xarena_page_fill,
	.set_fault_handler = xarena_set_fault_handler,

	.thread_create = x_thread_create,
	.thread_join = x_thread_join,
	.thread_yield = kthread_yield,
	.mutex_new = x_mutex_new,
	.mutex_free = x_mutex_free,
	.mutex_lock = x_mutex_lock,
	.mutex_unlock = x_mutex_unlock,
	.cond_new = x_cond_new,
	.cond_free = x_cond_free,
	.cond_wait = x_cond_wait,
	.cond_wait_until = x_cond_wait_until,
	.cond_signal = x_cond_signal,
	.cond_broadcast = x_cond_broadcast,
	.sleep_ns = kthread_sleep_ns,

	.monotonic_ns = timer_monotonic_ns,
	.wall_ns = timer_wall_ns,

	.blk_open = x_blk_open,

	.entropy = ent_fill,
	.console_write = con_write,
	.console_read = x_console_read,

	.sock_listen = x_no_listen,
	.sock_accept = x_no_accept,
	.sock_connect = x_no_connect,
	.sock_recv = x_no_recv,
	.sock_send = x_no_send,
	.sock_port = x_no_port,
	.sock_close = x_no_close,

	.halt = x_halt,
};

int xplat_init(void)
{
	return plat_install(&plat_x86_ops);
}
