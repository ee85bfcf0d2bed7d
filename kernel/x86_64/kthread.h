/* kthread.h — preemptive kernel threads on one CPU: a round-robin run queue,
 * a 10 ms time slice driven by the timer tick, sleeping, joining, and the
 * wait queues that sync.c builds mutexes and condition variables on.
 *
 * Locking rule: all scheduler state (run queue, wait queues, sleepers,
 * thread states) is touched only with interrupts disabled; on one CPU that
 * is the whole lock. A thread blocks only through kthread_block(). */
#ifndef X86_KTHREAD_H
#define X86_KTHREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "plat.h"

enum kthread_state { KTHREAD_READY, KTHREAD_RUNNING, KTHREAD_BLOCKED, KTHREAD_DEAD };

struct kthread;

/* A FIFO of blocked threads. */
struct kthread_wq {
	struct kthread *head, *tail;
};

struct kthread {
	uint64_t rsp;                   /* saved by kthread_switch          */
	enum kthread_state state;
	struct kthread *next;           /* run queue or one wait queue      */
	struct kthread_wq *wq;          /* the wait queue it is on, or NULL */
	uint64_t wake_ns;               /* sleeping until (0: not sleeping) */
	bool timed_out;                 /* woken by wake_ns, not by a wq    */
	bool in_use;
	bool in_fault_hook;             /* running the arena fault hook (vmm.c) */
	int slot;                       /* stack slot, -1 for the boot thread */
	plat_thread_fn fn;
	void *arg;
	struct kthread_wq joiners;
	char name[24];
	uint8_t fx[512] __attribute__((aligned(16)));   /* FPU/SSE state */
};

/* Makes the running boot context thread "main" and starts the idle thread.
 * Call once, after timer_init. */
void kthread_init(void);
struct kthread *kthread_current(void);
/* -ERR_NOMEM when the thread table or stack memory is exhausted. */
int kthread_create(struct kthread **t, plat_thread_fn fn, void *arg, const char *name);
/* Waits for t to finish and frees it. -ERR_INVAL for the caller itself. */
int kthread_join(struct kthread *t);
void kthread_yield(void);
void kthread_sleep_ns(uint64_t ns);

/* For sync.c, interrupts disabled: enqueue the caller on wq (and, with a
 * non-zero deadline, on the sleepers) and switch away; returns false if the
 * deadline passed first. */
bool kthread_block(struct kthread_wq *wq, uint64_t deadline_ns);
/* Wakes the first waiter of wq; false if it was empty. */
bool kthread_wake_one(struct kthread_wq *wq);

/* From the timer interrupt: wakes due sleepers, ends time slices. */
void kthread_tick(uint64_t now_ns);
/* From trap_dispatch after an IRQ's EOI: switches if a slice ended. */
void kthread_preempt_point(void);

#endif
