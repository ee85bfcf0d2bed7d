/* ksync.h — sleeping mutexes and condition variables for kernel threads
 * (kthread.c's wait queues), with the plat.h semantics: cond_wait_until
 * takes an absolute monotonic deadline and returns -ERR_TIMEDOUT. */
#ifndef X86_KSYNC_H
#define X86_KSYNC_H

#include <stdint.h>

#include "kthread.h"

struct ksync_mutex {
	struct kthread *owner;          /* NULL when free */
	struct kthread_wq waiters;
};

struct ksync_cond {
	struct kthread_wq waiters;
};

void ksync_mutex_lock(struct ksync_mutex *m);
void ksync_mutex_unlock(struct ksync_mutex *m);
void ksync_cond_wait(struct ksync_cond *c, struct ksync_mutex *m);
int ksync_cond_wait_until(struct ksync_cond *c, struct ksync_mutex *m, uint64_t deadline_ns);
void ksync_cond_signal(struct ksync_cond *c);
void ksync_cond_broadcast(struct ksync_cond *c);

#endif
