/* monitor.c — re-entrant object monitors (MONITORENTER/MONITOREXIT) and
 * Object.wait/notify/notifyAll. Owners live in a side table in the region,
 * root->monitors: nmonitors triples (object, owner thread, count as int),
 * so objects need no lock word. Only held monitors have an entry: the
 * entry is removed when the count drops to 0, which keeps the table as
 * small as the number of monitors held at once (linear search is fine).
 *
 * Waiting (per object, in the waiting thread): wait releases the monitor
 * and blocks with block = WAIT, phase 1; notify moves a waiter to phase 2
 * and makes it runnable; its re-executed wait native then re-acquires the
 * monitor with the saved count (blocking on MONITOR if contended). */
#include "internal.h"

static int64_t find(struct vm_root *r, vm_value obj)
{
	for (uint64_t i = 0; i < r->nmonitors; i++)
		if (r->monitors->data[3 * i] == obj)
			return (int64_t)i;
	return -1;
}

uint64_t vm_monitor_held(struct vm_root *r, struct vm_thread *t, vm_value obj)
{
	int64_t i = find(r, obj);
	if (i < 0 || r->monitors->data[3 * i + 1] != vm_ref(t))
		return 0;
	return (uint64_t)vm_fix_val(r->monitors->data[3 * i + 2]);
}

static void remove_at(struct vm_ctx *ctx, uint64_t i)
{
	struct vm_root *r = ctx->root;
	vm_value obj = r->monitors->data[3 * i];
	uint64_t last = r->nmonitors - 1;
	vm_gc_barrier(r, obj);         /* entry i's references are deleted */
	vm_gc_barrier(r, r->monitors->data[3 * i + 1]);
	for (int k = 0; k < 3; k++) {
		r->monitors->data[3 * i + k] = r->monitors->data[3 * last + k];
		r->monitors->data[3 * last + k] = VM_NULL;
	}
	r->nmonitors = last;
	/* Every contender retries; one wins, the others block again. */
	vm_unblock(ctx, VM_BK_MONITOR, obj);
}

int vm_monitor_enter(struct vm_ctx *ctx, struct vm_thread *t, vm_value obj, uint64_t count)
{
	struct vm_root *r = ctx->root;
	int64_t i = find(r, obj);
	if (i >= 0) {
		vm_value *e = &r->monitors->data[3 * i];
		if (e[1] != vm_ref(t))
			return vm_block(ctx, VM_BK_MONITOR, obj, 0);
		e[2] = vm_fix(vm_fix_val(e[2]) + (int64_t)count);
		return 0;
	}
	if (!r->monitors || 3 * (r->nmonitors + 1) > r->monitors->h.nrefs) {
		/* obj is on t's stack below sp, so it survives this allocation. */
		uint64_t cap = r->monitors ? r->monitors->h.nrefs / 3 * 2 : 8;
		struct vm_array *a = vm_new_array(ctx, 3 * cap);
		if (!a)
			return VM_BI_OOM + 1;
		/* The old table keeps nothing: it is garbage now, and a
		 * young reference left in it would be stale after the next
		 * minor collection (only the table in use is its root). The
		 * new table is born black, so its entries are shaded here. */
		for (uint64_t k = 0; k < 3 * r->nmonitors; k++) {
			a->data[k] = r->monitors->data[k];
			vm_gc_barrier(r, r->monitors->data[k]);
			r->monitors->data[k] = VM_NULL;
		}
		r->monitors = a;
	}
	vm_value *e = &r->monitors->data[3 * r->nmonitors++];
	e[0] = obj;
	e[1] = vm_ref(t);
	e[2] = vm_fix((int64_t)count);
	return 0;
}

int vm_monitor_exit(struct vm_ctx *ctx, struct vm_thread *t, vm_value obj)
{
	struct vm_root *r = ctx->root;
	int64_t i = find(r, obj);
	if (i < 0 || r->monitors->data[3 * i + 1] != vm_ref(t))
		return VM_BI_IMSE + 1;
	vm_value *e = &r->monitors->data[3 * i];
	if (vm_fix_val(e[2]) > 1)
		e[2] = vm_fix(vm_fix_val(e[2]) - 1);
	else
		remove_at(ctx, (uint64_t)i);
	return 0;
}

void vm_monitor_release(struct vm_ctx *ctx, vm_value obj)
{
	int64_t i = find(ctx->root, obj);
	if (i >= 0)
		remove_at(ctx, (uint64_t)i);
}

void vm_monitor_release_all(struct vm_ctx *ctx, struct vm_thread *t)
{
	struct vm_root *r = ctx->root;
	for (uint64_t i = 0; i < r->nmonitors;) {
		if (r->monitors->data[3 * i + 1] == vm_ref(t))
			remove_at(ctx, i);     /* moves the last entry to i */
		else
			i++;
	}
}
