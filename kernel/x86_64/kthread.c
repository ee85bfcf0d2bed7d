/* kthread.c — the scheduler: thread table, stacks with guard pages, run
 * queue, sleepers, blocking and waking, preemption at the end of a time
 * slice. Everything here runs with interrupts disabled (kthread.h). */
#include <stddef.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "kthread.h"
#include "memlayout.h"
#include "pmm.h"
#include "timer.h"
#include "trap.h"
#include "vmm.h"

#define KTHREAD_MAX      64
#define KTHREAD_SLICE_NS 10000000ul     /* 10 ms */

void kthread_switch(uint64_t *save_rsp, uint64_t new_rsp);
void kthread_trampoline(void);
void kthread_entry(void);

static struct kthread threads[KTHREAD_MAX];
static struct kthread *current;
static struct kthread *idle;
static struct kthread_wq runq;
static bool need_resched;
static uint64_t slice_end_ns;
static bool started;

static void wq_push(struct kthread_wq *q, struct kthread *t)
{
	t->next = NULL;
	if (q->tail)
		q->tail->next = t;
	else
		q->head = t;
	q->tail = t;
}

static struct kthread *wq_pop(struct kthread_wq *q)
{
	struct kthread *t = q->head;
	if (t) {
		q->head = t->next;
		if (!q->head)
			q->tail = NULL;
		t->next = NULL;
	}
	return t;
}

static void wq_remove(struct kthread_wq *q, struct kthread *t)
{
	struct kthread *prev = NULL;
	for (struct kthread *p = q->head; p; prev = p, p = p->next) {
		if (p != t)
			continue;
		if (prev)
			prev->next = p->next;
		else
			q->head = p->next;
		if (q->tail == p)
			q->tail = prev;
		p->next = NULL;
		return;
	}
}

static void make_ready(struct kthread *t)
{
	t->state = KTHREAD_READY;
	if (t != idle)
		wq_push(&runq, t);
}

/* Switches to the next ready thread (or idle). The caller has put current
 * wherever it belongs (run queue, a wait queue) and set its state. */
static void schedule(void)
{
	struct kthread *prev = current, *next = wq_pop(&runq);
	if (next == NULL)
		next = prev->state == KTHREAD_RUNNING || prev->state == KTHREAD_READY ? prev : idle;
	need_resched = false;
	slice_end_ns = timer_monotonic_ns() + KTHREAD_SLICE_NS;
	next->state = KTHREAD_RUNNING;
	if (next == prev)
		return;
	current = next;
	__asm__ volatile("fxsave %0" : "=m"(prev->fx));
	kthread_switch(&prev->rsp, next->rsp);
	__asm__ volatile("fxrstor %0" : : "m"(prev->fx));
}

struct kthread *kthread_current(void)
{
	return current;
}

static int stack_map(int slot, uint64_t *top)
{
	uint64_t base = KSTACK_BASE + (uint64_t)slot * KSTACK_STRIDE + PMM_PAGE;
	for (uint64_t off = 0; off < KSTACK_SIZE; off += PMM_PAGE) {
		uint64_t pte;
		if (vmm_query(base + off, &pte) == 0)
			continue;               /* kept from an earlier thread */
		uint64_t pa = pmm_alloc();
		if (pa == 0 || vmm_map(base + off, pa, VMM_W | VMM_NX) < 0) {
			if (pa)
				pmm_free(pa);
			return -ERR_NOMEM;
		}
	}
	*top = base + KSTACK_SIZE;
	return 0;
}

static struct kthread *alloc_thread(const char *name)
{
	for (int i = 0; i < KTHREAD_MAX; i++) {
		struct kthread *t = &threads[i];
		if (t->in_use)
			continue;
		memset(t, 0, sizeof(*t));
		t->in_use = true;
		t->slot = i;
		size_t n = 0;
		for (; name && name[n] && n + 1 < sizeof(t->name); n++)
			t->name[n] = name[n];
		t->name[n] = '\0';
		/* A fresh x87/SSE state: default control words. */
		*(uint16_t *)&t->fx[0] = 0x037f;
		*(uint32_t *)&t->fx[24] = 0x1f80;
		return t;
	}
	return NULL;
}

void kthread_entry(void)
{
	struct kthread *t = current;
	__asm__ volatile("fxrstor %0" : : "m"(t->fx));
	cpu_sti();
	t->fn(t->arg);
	cpu_cli();
	t->state = KTHREAD_DEAD;
	while (kthread_wake_one(&t->joiners))
		;
	schedule();
	kpanic("kthread: dead thread %s was scheduled", t->name);
}

int kthread_create(struct kthread **out, plat_thread_fn fn, void *arg, const char *name)
{
	uint64_t f = cpu_save_irq();
	struct kthread *t = alloc_thread(name);
	cpu_restore_irq(f);
	if (t == NULL)
		return -ERR_NOMEM;
	uint64_t top;
	if (stack_map(t->slot, &top) < 0) {
		t->in_use = false;
		return -ERR_NOMEM;
	}
	uint64_t *sp = (uint64_t *)top;
	*--sp = 0;                              /* alignment pad */
	*--sp = (uint64_t)kthread_trampoline;   /* kthread_switch's ret */
	for (int i = 0; i < 6; i++)
		*--sp = 0;                      /* rbp rbx r12 r13 r14 r15 */
	t->rsp = (uint64_t)sp;
	t->fn = fn;
	t->arg = arg;
	f = cpu_save_irq();
	make_ready(t);
	cpu_restore_irq(f);
	*out = t;
	return 0;
}

int kthread_join(struct kthread *t)
{
	if (t == current || t == NULL || !t->in_use)
		return -ERR_INVAL;
	uint64_t f = cpu_save_irq();
	while (t->state != KTHREAD_DEAD)
		kthread_block(&t->joiners, 0);
	/* Its stack pages stay mapped in its slot for the next thread. */
	t->in_use = false;
	cpu_restore_irq(f);
	return 0;
}

void kthread_yield(void)
{
	uint64_t f = cpu_save_irq();
	make_ready(current);
	schedule();
	cpu_restore_irq(f);
}

bool kthread_block(struct kthread_wq *wq, uint64_t deadline_ns)
{
	struct kthread *t = current;
	t->state = KTHREAD_BLOCKED;
	t->timed_out = false;
	t->wq = wq;
	t->wake_ns = deadline_ns;
	if (wq)
		wq_push(wq, t);
	schedule();
	return !t->timed_out;
}

bool kthread_wake_one(struct kthread_wq *wq)
{
	struct kthread *t = wq_pop(wq);
	if (t == NULL)
		return false;
	t->wq = NULL;
	t->wake_ns = 0;
	make_ready(t);
	return true;
}

void kthread_sleep_ns(uint64_t ns)
{
	uint64_t f = cpu_save_irq();
	kthread_block(NULL, timer_monotonic_ns() + (ns ? ns : 1));
	cpu_restore_irq(f);
}

void kthread_tick(uint64_t now_ns)
{
	if (!started)
		return;
	for (int i = 0; i < KTHREAD_MAX; i++) {
		struct kthread *t = &threads[i];
		if (!t->in_use || t->state != KTHREAD_BLOCKED || t->wake_ns == 0 ||
		    t->wake_ns > now_ns)
			continue;
		if (t->wq)
			wq_remove(t->wq, t);
		t->wq = NULL;
		t->wake_ns = 0;
		t->timed_out = true;
		make_ready(t);
		need_resched = true;
	}
	if (now_ns >= slice_end_ns)
		need_resched = true;
}

void kthread_preempt_point(void)
{
	if (!started || !need_resched)
		return;
	if (current != idle)
		make_ready(current);
	schedule();
}

static void idle_loop(void *arg)
{
	(void)arg;
	for (;;)
		cpu_sti_hlt();
}

void kthread_init(void)
{
	struct kthread *main_t = alloc_thread("main");
	if (main_t == NULL)
		kpanic("kthread: no thread for main");
	main_t->slot = -1;                  /* runs on the boot stack */
	main_t->state = KTHREAD_RUNNING;
	current = main_t;
	if (kthread_create(&idle, idle_loop, NULL, "idle") < 0)
		kpanic("kthread: cannot create the idle thread");
	/* idle is on no queue: schedule() picks it when nothing is ready. */
	uint64_t f = cpu_save_irq();
	wq_remove(&runq, idle);
	idle->state = KTHREAD_READY;
	slice_end_ns = timer_monotonic_ns() + KTHREAD_SLICE_NS;
	started = true;
	cpu_restore_irq(f);
}
