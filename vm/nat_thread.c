/* nat_thread.c — the Thread and Object internal classes: start, sleep,
 * yield, join, current; wait, notify, notifyAll. Each blocking native is a
 * small state machine in its thread's `phase` (object.h), so re-running it
 * after a wake-up or a restore continues it instead of starting over. */
#include <string.h>

#include "internal.h"

static struct vm_string *as_string(vm_value v)
{
	if (!vm_is_ref(v))
		return NULL;
	struct vm_obj *o = vm_ptr(v);
	return o->cls->kind == VM_K_STRING ? (struct vm_string *)o : NULL;
}

static struct vm_thread *as_thread(vm_value v)
{
	if (!vm_is_ref(v))
		return NULL;
	struct vm_obj *o = vm_ptr(v);
	return o->cls->kind == VM_K_THREAD ? (struct vm_thread *)o : NULL;
}

static int throw_msg(struct vm_ctx *ctx, int bi, const char *msg, vm_value *ret)
{
	*ret = vm_make_exception(ctx, bi, msg);
	return VM_NAT_THROW;
}

/* "Class.method" -> a static method taking nargs arguments. */
static struct vm_method *find_static(struct vm_ctx *ctx, struct vm_string *s, unsigned nargs)
{
	const char *dot = memchr(s->bytes, '.', s->len);
	if (!dot)
		return NULL;
	struct vm_class *c = vm_find_class(ctx->root, s->bytes, (size_t)(dot - s->bytes));
	size_t nlen = s->len - (size_t)(dot + 1 - s->bytes);
	for (uint32_t i = 0; c && i < c->methods->h.nrefs; i++) {
		struct vm_method *m = vm_ptr(c->methods->data[i]);
		if (vm_str_eq(m->name, dot + 1, nlen) && (m->flags & VM_MF_STATIC) &&
		    !(m->flags & VM_MF_ABSTRACT) && m->nargs == nargs)
			return m;
	}
	return NULL;
}

static int start(struct vm_ctx *ctx, vm_value *a, vm_value *ret, unsigned nargs)
{
	struct vm_string *s = as_string(a[0]);
	if (!s)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	struct vm_method *m = find_static(ctx, s, nargs);
	if (!m)
		return throw_msg(ctx, VM_BI_IAE, "thread.start: no such static method", ret);
	int rc;
	struct vm_thread *t = vm_thread_new(ctx, m, nargs ? &a[1] : NULL, &rc);
	if (!t)
		return rc == -ERR_RANGE ? throw_msg(ctx, VM_BI_IAE, "thread.start: frame too large", ret)
			: VM_BI_OOM + 1;
	t->flags |= VM_TF_VM_STARTED;
	*ret = vm_ref(t);
	return 0;
}

/* thread.start(name, arg): a new thread at static method "Class.m" (1 arg). */
int vm_n_thread_start(struct vm_ctx *ctx, vm_value *a, vm_value *ret) { return start(ctx, a, ret, 1); }
/* thread.start0(name): the same for a method with no arguments. */
int vm_n_thread_start0(struct vm_ctx *ctx, vm_value *a, vm_value *ret) { return start(ctx, a, ret, 0); }

int vm_n_thread_current(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)a;
	*ret = vm_ref(ctx->cur);
	return 0;
}

/* thread.sleep(ms): phase 0 sets the wall-clock deadline; the scheduler
 * makes the thread runnable at it, and phase 1 completes. */
int vm_n_thread_sleep(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ret;
	struct vm_thread *t = ctx->cur;
	if (t->phase == 1) {
		t->phase = 0;
		return 0;
	}
	if (!vm_is_fix(a[0]) || vm_fix_val(a[0]) < 0)
		return throw_msg(ctx, VM_BI_IAE, "thread.sleep: negative or non-int time", ret);
	t->phase = 1;
	t->wake_ns = vm_now_ns(ctx) + (uint64_t)vm_fix_val(a[0]) * 1000000u;
	t->state = VM_TS_SLEEPING;
	return VM_NAT_BLOCK;
}

/* thread.yield(): end this slice; the re-run completes. */
int vm_n_thread_yield(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)a;
	(void)ret;
	struct vm_thread *t = ctx->cur;
	if (t->phase == 1) {
		t->phase = 0;
		return 0;
	}
	t->phase = 1;
	return VM_NAT_BLOCK;           /* state stays RUNNABLE */
}

/* thread.join(t) -> t's result (null if it failed). */
int vm_n_thread_join(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	struct vm_thread *t = as_thread(a[0]);
	if (!t)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	if (t == ctx->cur)
		return throw_msg(ctx, VM_BI_IAE, "thread.join: a thread cannot join itself", ret);
	if (t->state == VM_TS_DONE || t->state == VM_TS_FAILED) {
		*ret = t->state == VM_TS_DONE ? t->result : VM_NULL;
		return 0;
	}
	return vm_block(ctx, VM_BK_JOIN, a[0], 0);
}

/* object.wait(obj): see monitor.c for the phases. */
int vm_n_object_wait(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	struct vm_thread *t = ctx->cur;
	if (!vm_is_ref(a[0]))
		return VM_BI_NPE + 1;
	if (t->phase == 0) {
		uint64_t n = vm_monitor_held(ctx->root, t, a[0]);
		if (!n)
			return throw_msg(ctx, VM_BI_IMSE, "object.wait without owning the monitor", ret);
		t->wait_count = n;
		vm_monitor_release(ctx, a[0]);
		t->phase = 1;
		return vm_block(ctx, VM_BK_WAIT, a[0], 0);
	}
	if (t->phase == 1)             /* not notified yet */
		return vm_block(ctx, VM_BK_WAIT, a[0], 0);
	int rc = vm_monitor_enter(ctx, t, a[0], t->wait_count);
	if (rc == 0) {
		t->phase = 0;
		t->wait_count = 0;
	}
	return rc;
}

static int notify(struct vm_ctx *ctx, vm_value *a, vm_value *ret, bool all)
{
	if (!vm_is_ref(a[0]))
		return VM_BI_NPE + 1;
	if (!vm_monitor_held(ctx->root, ctx->cur, a[0]))
		return throw_msg(ctx, VM_BI_IMSE, "object.notify without owning the monitor", ret);
	/* The longest waiter is the one nearest the list's end (threads are
	 * prepended); notify wakes that one. */
	struct vm_thread *pick = NULL;
	for (struct vm_thread *t = ctx->root->threads; t; t = t->next) {
		if (t->state != VM_TS_BLOCKED || t->block != VM_BK_WAIT || t->blocker != a[0])
			continue;
		pick = t;
		if (all) {
			t->phase = 2;
			t->state = VM_TS_RUNNABLE;
			t->block = VM_BK_NONE;
		}
	}
	if (pick && !all) {
		pick->phase = 2;
		pick->state = VM_TS_RUNNABLE;
		pick->block = VM_BK_NONE;
	}
	return 0;
}

int vm_n_object_notify(struct vm_ctx *ctx, vm_value *a, vm_value *ret) { return notify(ctx, a, ret, false); }
int vm_n_object_notify_all(struct vm_ctx *ctx, vm_value *a, vm_value *ret) { return notify(ctx, a, ret, true); }
