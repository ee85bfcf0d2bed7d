/* sys_arch.c — lwIP's NO_SYS=0 OS layer for the kernel: counting semaphores,
 * mutexes, fixed-size mailboxes, threads, sys_now and the lightweight
 * protection lock, built on plat.h's mutex/cond/thread through lwip_plat.h.
 *
 * Invariants: a semaphore's count and a mailbox's ring are changed only with
 * that object's mutex held; a mailbox holds at most cap messages, with
 * head..head+count-1 (mod cap) the queued ones, oldest first. */
#include <stdlib.h>

#include "lwip/opt.h"
#include "lwip/sys.h"
#include "lwip/err.h"

#include "lwip_plat.h"

struct sys_arch_sem {
	struct lwip_port_mutex *lock;
	struct lwip_port_cond *cond;
	unsigned count;
};

struct sys_arch_mbox {
	struct lwip_port_mutex *lock;
	struct lwip_port_cond *not_empty;
	struct lwip_port_cond *not_full;
	int cap, head, count;
	void *msgs[];
};

/* SYS_ARCH_PROTECT's lock. Not recursive: plat.h has no thread identity to
 * make it so, and lwIP 2.1.3's core, api and sockets code never nests it. */
static struct lwip_port_mutex *protect_lock;

void sys_init(void)
{
	if (protect_lock == NULL && lwip_port_mutex_new(&protect_lock) != 0)
		lwip_port_assert("sys_init: no mutex for SYS_ARCH_PROTECT", __FILE__, __LINE__);
}

sys_prot_t sys_arch_protect(void)
{
	lwip_port_mutex_lock(protect_lock);
	return 0;
}

void sys_arch_unprotect(sys_prot_t pval)
{
	(void)pval;
	lwip_port_mutex_unlock(protect_lock);
}

u32_t sys_now(void)
{
	return (u32_t)(lwip_port_monotonic_ns() / 1000000u);
}

/* Waits on cond (lock held) until pred is true or timeout_ms (0 = forever)
 * passes. Returns the ms waited, or SYS_ARCH_TIMEOUT. */
#define WAIT_UNTIL(pred, cond, lock, timeout_ms)                                  \
	({                                                                        \
		uint64_t t0_ = lwip_port_monotonic_ns();                          \
		uint64_t end_ = t0_ + (uint64_t)(timeout_ms) * 1000000u;         \
		u32_t r_ = 0;                                                     \
		while (!(pred)) {                                                 \
			if ((timeout_ms) == 0)                                    \
				lwip_port_cond_wait((cond), (lock));              \
			else if (lwip_port_cond_wait_until((cond), (lock), end_) && !(pred)) { \
				r_ = SYS_ARCH_TIMEOUT;                            \
				break;                                            \
			}                                                         \
		}                                                                 \
		if (r_ != SYS_ARCH_TIMEOUT)                                       \
			r_ = (u32_t)((lwip_port_monotonic_ns() - t0_) / 1000000u);\
		r_;                                                               \
	})

err_t sys_sem_new(sys_sem_t *sem, u8_t count)
{
	struct sys_arch_sem *s = calloc(1, sizeof *s);

	if (s == NULL)
		return ERR_MEM;
	if (lwip_port_mutex_new(&s->lock) != 0) {
		free(s);
		return ERR_MEM;
	}
	if (lwip_port_cond_new(&s->cond) != 0) {
		lwip_port_mutex_free(s->lock);
		free(s);
		return ERR_MEM;
	}
	s->count = count;
	*sem = s;
	return ERR_OK;
}

void sys_sem_free(sys_sem_t *sem)
{
	struct sys_arch_sem *s = *sem;

	if (s == NULL)
		return;
	lwip_port_cond_free(s->cond);
	lwip_port_mutex_free(s->lock);
	free(s);
	*sem = NULL;
}

void sys_sem_signal(sys_sem_t *sem)
{
	struct sys_arch_sem *s = *sem;

	lwip_port_mutex_lock(s->lock);
	s->count++;
	lwip_port_cond_signal(s->cond);
	lwip_port_mutex_unlock(s->lock);
}

u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout)
{
	struct sys_arch_sem *s = *sem;
	u32_t r;

	lwip_port_mutex_lock(s->lock);
	r = WAIT_UNTIL(s->count > 0, s->cond, s->lock, timeout);
	if (r != SYS_ARCH_TIMEOUT)
		s->count--;
	lwip_port_mutex_unlock(s->lock);
	return r;
}

err_t sys_mutex_new(sys_mutex_t *m)
{
	return lwip_port_mutex_new(m) == 0 ? ERR_OK : ERR_MEM;
}

void sys_mutex_free(sys_mutex_t *m)
{
	if (*m)
		lwip_port_mutex_free(*m);
	*m = NULL;
}

void sys_mutex_lock(sys_mutex_t *m) { lwip_port_mutex_lock(*m); }
void sys_mutex_unlock(sys_mutex_t *m) { lwip_port_mutex_unlock(*m); }

err_t sys_mbox_new(sys_mbox_t *mbox, int size)
{
	struct sys_arch_mbox *b;

	if (size <= 0)
		size = 32;
	b = calloc(1, sizeof *b + (size_t)size * sizeof(void *));
	if (b == NULL)
		return ERR_MEM;
	b->cap = size;
	if (lwip_port_mutex_new(&b->lock) != 0)
		goto err_free;
	if (lwip_port_cond_new(&b->not_empty) != 0)
		goto err_lock;
	if (lwip_port_cond_new(&b->not_full) != 0)
		goto err_cond;
	*mbox = b;
	return ERR_OK;
err_cond:
	lwip_port_cond_free(b->not_empty);
err_lock:
	lwip_port_mutex_free(b->lock);
err_free:
	free(b);
	return ERR_MEM;
}

void sys_mbox_free(sys_mbox_t *mbox)
{
	struct sys_arch_mbox *b = *mbox;

	if (b == NULL)
		return;
	lwip_port_cond_free(b->not_full);
	lwip_port_cond_free(b->not_empty);
	lwip_port_mutex_free(b->lock);
	free(b);
	*mbox = NULL;
}

/* Lock held, ring not full. */
static void mbox_put(struct sys_arch_mbox *b, void *msg)
{
	b->msgs[(b->head + b->count) % b->cap] = msg;
	b->count++;
	lwip_port_cond_signal(b->not_empty);
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg)
{
	struct sys_arch_mbox *b = *mbox;

	lwip_port_mutex_lock(b->lock);
	while (b->count == b->cap)
		lwip_port_cond_wait(b->not_full, b->lock);
	mbox_put(b, msg);
	lwip_port_mutex_unlock(b->lock);
}

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg)
{
	struct sys_arch_mbox *b = *mbox;
	err_t r = ERR_MEM;

	lwip_port_mutex_lock(b->lock);
	if (b->count < b->cap) {
		mbox_put(b, msg);
		r = ERR_OK;
	}
	lwip_port_mutex_unlock(b->lock);
	return r;
}

/* The kernel posts from threads, never from interrupt handlers. */
err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg)
{
	return sys_mbox_trypost(mbox, msg);
}

/* Lock held, ring not empty. */
static void *mbox_take(struct sys_arch_mbox *b)
{
	void *msg = b->msgs[b->head];

	b->head = (b->head + 1) % b->cap;
	b->count--;
	lwip_port_cond_signal(b->not_full);
	return msg;
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout)
{
	struct sys_arch_mbox *b = *mbox;
	u32_t r;
	void *m;

	lwip_port_mutex_lock(b->lock);
	r = WAIT_UNTIL(b->count > 0, b->not_empty, b->lock, timeout);
	if (r != SYS_ARCH_TIMEOUT) {
		m = mbox_take(b);
		if (msg)
			*msg = m;
	}
	lwip_port_mutex_unlock(b->lock);
	return r;
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg)
{
	struct sys_arch_mbox *b = *mbox;
	u32_t r = SYS_MBOX_EMPTY;
	void *m;

	lwip_port_mutex_lock(b->lock);
	if (b->count > 0) {
		m = mbox_take(b);
		if (msg)
			*msg = m;
		r = 0;
	}
	lwip_port_mutex_unlock(b->lock);
	return r;
}

/* stacksize and prio are the platform's business (its threads have one
 * stack size and no priorities). A thread that cannot start is fatal: lwIP
 * has no error path for it. */
sys_thread_t sys_thread_new(const char *name, lwip_thread_fn fn, void *arg,
			    int stacksize, int prio)
{
	struct lwip_port_thread *t = NULL;

	(void)stacksize;
	(void)prio;
	if (lwip_port_thread_new(&t, fn, arg, name) != 0)
		lwip_port_assert("sys_thread_new: cannot create thread", __FILE__, __LINE__);
	return t;
}
