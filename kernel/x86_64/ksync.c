/* ksync.c — mutex and condition variable. A woken mutex waiter re-checks
 * the owner (no hand-off), so a running thread may take the lock first;
 * that is fair enough for one CPU and keeps unlock O(1). Unlocking a mutex
 * one does not own is a broken invariant and panics. */
#include <stddef.h>

#include "cpu.h"
#include "ksync.h"
#include "trap.h"

static void mutex_lock_irqoff(struct ksync_mutex *m)
{
	struct kthread *self = kthread_current();
	if (m->owner == self)
		kpanic("ksync: thread %s locks a mutex it holds", self->name);
	while (m->owner != NULL)
		kthread_block(&m->waiters, 0);
	m->owner = self;
}

static void mutex_unlock_irqoff(struct ksync_mutex *m)
{
	if (m->owner != kthread_current())
		kpanic("ksync: thread %s unlocks a mutex it does not hold",
		       kthread_current()->name);
	m->owner = NULL;
	kthread_wake_one(&m->waiters);
}

void ksync_mutex_lock(struct ksync_mutex *m)
{
	uint64_t f = cpu_save_irq();
	mutex_lock_irqoff(m);
	cpu_restore_irq(f);
}

void ksync_mutex_unlock(struct ksync_mutex *m)
{
	uint64_t f = cpu_save_irq();
	mutex_unlock_irqoff(m);
	cpu_restore_irq(f);
}

int ksync_cond_wait_until(struct ksync_cond *c, struct ksync_mutex *m, uint64_t deadline_ns)
{
	uint64_t f = cpu_save_irq();
	/* Unlock and enqueue with interrupts off: a signal between the two
	 * cannot be lost. */
	mutex_unlock_irqoff(m);
	bool woken = kthread_block(&c->waiters, deadline_ns);
	mutex_lock_irqoff(m);
	cpu_restore_irq(f);
	return woken ? 0 : -ERR_TIMEDOUT;
}

void ksync_cond_wait(struct ksync_cond *c, struct ksync_mutex *m)
{
	ksync_cond_wait_until(c, m, 0);
}

void ksync_cond_signal(struct ksync_cond *c)
{
	uint64_t f = cpu_save_irq();
	kthread_wake_one(&c->waiters);
	cpu_restore_irq(f);
}

void ksync_cond_broadcast(struct ksync_cond *c)
{
	uint64_t f = cpu_save_irq();
	while (kthread_wake_one(&c->waiters))
		;
	cpu_restore_irq(f);
}
