/* sched.c — VM threads as region objects and the scheduler that runs them:
 * thread creation, round-robin slices, sleeping (wall-clock deadlines) and
 * blocking, and what makes a blocked thread runnable again.
 *
 * Invariant: a thread that is not RUNNABLE stands on the instruction that
 * stopped it (MONITORENTER or INVOKENATIVE) with its operands still on its
 * stack; making it RUNNABLE just re-executes that instruction. So the whole
 * scheduler state is the thread objects' fields, and a restored region
 * resumes every thread without any C-side help. */
#include <string.h>

#include "plat.h"
#include "internal.h"

#define VM_STACK_SLOTS 65536u          /* per thread: frames + operands     */

struct vm_thread *vm_thread_new(struct vm_ctx *ctx, struct vm_method *m, const vm_value *arg, int *rc)
{
	*rc = -ERR_NOMEM;
	struct vm_root *r = ctx->root;
	/* Calls check the callee's frame against the stack's end; the entry
	 * frame is checked here. */
	if ((uint64_t)m->nlocals + VM_FRAME_INFO + m->max_stack > VM_STACK_SLOTS) {
		*rc = vm_fail(ctx, -ERR_RANGE, "%s needs a frame larger than a thread stack", m->name->bytes);
		return NULL;
	}
	if (arg)
		r->tmp[3] = *arg;      /* held across the allocations */
	struct vm_thread *t = vm_alloc(ctx, r->builtin[VM_BI_THREAD], sizeof *t / 8, VM_THREAD_NREFS);
	if (!t) {
		r->tmp[3] = VM_NULL;
		vm_fail(ctx, -ERR_NOMEM, "no memory for a thread");
		return NULL;
	}
	r->tmp[4] = vm_ref(t);
	t->stack = vm_new_array(ctx, VM_STACK_SLOTS);
	if (t->stack)
		t->stack->h.stack = 1;
	r->tmp[4] = VM_NULL;
	vm_value a = r->tmp[3];
	r->tmp[3] = VM_NULL;
	if (!t->stack) {
		vm_fail(ctx, -ERR_NOMEM, "no memory for a thread stack");
		return NULL;
	}
	/* The entry frame: locals (the argument first), then a caller of NULL
	 * marks the bottom. */
	if (arg)
		t->stack->data[0] = a;
	vm_value *info = t->stack->data + m->nlocals;
	info[0] = VM_NULL;
	info[1] = vm_fix(0);
	info[2] = vm_fix(0);
	t->method = m;
	t->pc = 0;
	t->fp = 0;
	t->sp = m->nlocals + VM_FRAME_INFO;
	t->state = VM_TS_RUNNABLE;
	t->id = (uint32_t)r->next_thread_id++;
	t->next = r->threads;
	r->threads = t;
	return t;
}

uint64_t vm_now_ns(struct vm_ctx *ctx)
{
	if (ctx->clock)
		return ctx->clock();
	return plat_active ? plat_wall_ns() : 0;
}

int vm_block(struct vm_ctx *ctx, enum vm_block what, vm_value on, uint64_t poll_ns)
{
	struct vm_thread *t = ctx->cur;
	t->state = VM_TS_BLOCKED;
	t->block = what;
	vm_gc_barrier(ctx->root, t->blocker);
	t->blocker = on;
	vm_young_store(ctx, t, &t->blocker);
	t->wake_ns = poll_ns ? vm_now_ns(ctx) + poll_ns : UINT64_MAX;
	return VM_NAT_BLOCK;
}

static void make_runnable(struct vm_thread *t)
{
	t->state = VM_TS_RUNNABLE;
	t->block = VM_BK_NONE;
	t->wake_ns = 0;
}

unsigned vm_unblock(struct vm_ctx *ctx, enum vm_block what, vm_value on)
{
	unsigned n = 0;
	for (struct vm_thread *t = ctx->root->threads; t; t = t->next)
		if (t->state == VM_TS_BLOCKED && t->block == what && (on == VM_NULL || t->blocker == on)) {
			make_runnable(t);
			n++;
		}
	return n;
}

static bool io_block(const struct vm_thread *t)
{
	return t->state == VM_TS_BLOCKED && (t->block == VM_BK_CONSOLE || t->block == VM_BK_SOCKET);
}

/* Wake sleepers whose time has come and I/O waiters that should re-poll. */
static void wake_due(struct vm_ctx *ctx)
{
	bool woken = __atomic_exchange_n(&ctx->wake, 0, __ATOMIC_ACQ_REL);
	uint64_t now = vm_now_ns(ctx);
	bool console = false;
	for (struct vm_thread *t = ctx->root->threads; t; t = t->next)
		if (t->state == VM_TS_BLOCKED && t->block == VM_BK_CONSOLE)
			console = true;
	if (console && vm_io_console_ready(ctx))
		vm_unblock(ctx, VM_BK_CONSOLE, VM_NULL);
	for (struct vm_thread *t = ctx->root->threads; t; t = t->next) {
		if (t->state == VM_TS_SLEEPING && now >= t->wake_ns)
			make_runnable(t);
		else if (io_block(t) && (woken || now >= t->wake_ns))
			make_runnable(t);
	}
}

/* A thread ended: its monitors are released, its joiners run again, its
 * stack goes, and a VM-started one leaves the thread list (its own next
 * link is kept, so a scheduler loop standing on it continues safely). */
static void finished(struct vm_ctx *ctx, struct vm_thread *t)
{
	vm_monitor_release_all(ctx, t);
	vm_unblock(ctx, VM_BK_JOIN, vm_ref(t));
	/* The stack is never shaded: it is black throughout a cycle (scanned
	 * at the start or born black), and its slots above sp are stale. */
	t->stack = NULL;
	t->sp = 0;
	if (t->flags & VM_TF_VM_STARTED)
		for (struct vm_thread **p = &ctx->root->threads; *p; p = &(*p)->next)
			if (*p == t) {
				vm_gc_barrier(ctx->root, vm_ref(t));
				*p = t->next;
				break;
			}
}

static int run_one(struct vm_ctx *ctx, struct vm_thread *t, uint64_t budget)
{
	int rc = vm_interp(ctx, t, budget);
	ctx->cur = NULL;
	if (rc == VM_RUN_DONE || rc == VM_RUN_FAILED)
		finished(ctx, t);
	return rc;
}

int vm_run(struct vm_ctx *ctx, uint32_t id, uint64_t budget)
{
	struct vm_thread *t = vm_thread_find(ctx->root, id);
	if (!t)
		return vm_fail(ctx, -ERR_NOENT, "no thread %u", id);
	wake_due(ctx);
	if (t->state == VM_TS_DONE)
		return VM_RUN_DONE;
	if (t->state == VM_TS_FAILED)
		return VM_RUN_FAILED;
	if (t->state != VM_TS_RUNNABLE)
		return VM_RUN_BLOCKED;
	vm_young_pay(ctx);
	int rc = run_one(ctx, t, budget);
	vm_young_collect(ctx, false);  /* the host sees the nursery empty */
	return rc;
}

/* Round-robin: each pass runs every runnable thread for one slice, in list
 * order starting after the thread that ran last (root->rr_next), so newly
 * started threads (prepended) cannot starve the old ones. */
int vm_run_all(struct vm_ctx *ctx, uint64_t slice)
{
	return vm_run_passes(ctx, slice, UINT64_MAX);
}

int vm_run_passes(struct vm_ctx *ctx, uint64_t slice, uint64_t passes)
{
	struct vm_root *r = ctx->root;
	int failed = 0;
	vm_young_pay(ctx);
	for (uint64_t pass = 0; pass < passes && !ctx->stop; pass++) {
		wake_due(ctx);
		bool ran = false;
		uint64_t after = r->rr_next;
		/* Threads with id > after first, then the rest. */
		for (int round = 0; round < 2 && !ctx->stop; round++)
			for (struct vm_thread *t = r->threads; t && !ctx->stop; t = t->next) {
				if (t->state != VM_TS_RUNNABLE || (round == 0) != (t->id > after))
					continue;
				if (round == 1 && t->id > after)
					continue;
				r->rr_next = t->id;
				ran = true;
				if (run_one(ctx, t, slice ? slice : 1) == VM_RUN_FAILED)
					failed++;
			}
		if (!ran) {
			r->rr_next = 0;
			break;
		}
	}
	vm_young_collect(ctx, false);  /* the host sees the nursery empty */
	return failed;
}

uint64_t vm_next_wakeup_ns(struct vm_ctx *ctx)
{
	if (__atomic_load_n(&ctx->wake, __ATOMIC_ACQUIRE))
		return 0;
	uint64_t next = UINT64_MAX;
	for (struct vm_thread *t = ctx->root->threads; t; t = t->next) {
		if (t->state == VM_TS_RUNNABLE)
			return 0;
		if (t->state == VM_TS_SLEEPING || io_block(t))
			next = t->wake_ns < next ? t->wake_ns : next;
	}
	return next;
}

bool vm_all_done(struct vm_ctx *ctx)
{
	for (struct vm_thread *t = ctx->root->threads; t; t = t->next)
		if (t->state != VM_TS_DONE && t->state != VM_TS_FAILED)
			return false;
	return true;
}
