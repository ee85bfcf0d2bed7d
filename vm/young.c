/* young.c — the nursery: where the interpreter's small objects are born,
 * and the minor collection that empties it.
 *
 * The nursery is the region's last pages, [young_lo, young_hi): objects
 * are bumped up from young_lo, and the remembered set, (object, slot)
 * pairs of old objects that were given a young reference, grows down from
 * young_hi. It is emptied whenever the host gets control back from the
 * VM (vm_run, vm_run_passes) and whenever it fills, at the next
 * safepoint: the survivors are copied into the old heap (promoted) and
 * every reference to them is updated. So the host, and every snapshot,
 * only ever sees it empty, and a host with a persistent arena makes its
 * pages volatile: short-lived objects then never reach a snapshot. Objects
 * move only at a safepoint, where the interpreter holds no object in a C
 * variable and every thread's state is in the region; C code between
 * two safepoints (natives, allocation) sees nothing move.
 *
 * Roots of a minor collection: root->tmp, every listed thread's
 * references and its stack below sp, the monitor table, and the
 * remembered slots. Every C store of a reference into an old object
 * outside those roots calls vm_young_store after it (PUTFIELD, ASTORE,
 * PUTSTATIC, a thread's result, exception and blocker, the root
 * directory). A slot remembered in an object that then dies would be read
 * after its memory is reused, so the sweep's start drops the pairs of
 * unmarked objects (vm_young_forget_dead); an object stored into since
 * is reachable, so marked or born black. When the remembered set runs out
 * of room, the next collection walks the whole old heap instead.
 *
 * The old collector does not colour young objects: a cycle's start
 * shades what they reference (heap.c, begin_cycle), and a survivor is
 * born black while marking, like any allocation. A survivor always finds
 * room: old allocation leaves at least the nursery's used bytes above the
 * bump pointer, and a young allocation fits within that too. That kept
 * room is mostly garbage, so an allocation that fails while the nursery
 * holds anything empties it and runs its instruction again (interp.c,
 * RETRY_YOUNG) before memory counts as exhausted. A container that stops
 * being a root must keep no young reference (the monitor table clears
 * the old one when it grows): the heap walk would read it later. */
#include <string.h>

#include "plat.h"
#include "internal.h"

/* A minor collection's work list: promoted young objects whose new copy
 * is still to be scanned, linked through the old copy's first body word
 * (a young object has at least one; its header now holds the forward). */
struct evac {
	struct vm_root *r;
	struct vm_obj *todo;
	uint64_t words;
	uint64_t top;              /* young_top as the collection began */
};

static inline uint64_t *body(struct vm_obj *o) { return (uint64_t *)(o + 1); }

/* A visit of reference slots: fn(arg, slot). */
struct visit {
	void (*fn)(void *arg, vm_value *slot);
	void *arg;
};

/* o's reference slots; none of a stack: its live slots are its thread's
 * (a root), those above sp are stale. */
static void each_field(struct visit *v, struct vm_obj *o)
{
	vm_value *w = (vm_value *)(o + 1);
	for (uint32_t i = 0; !o->stack && i < o->nrefs; i++)
		v->fn(v->arg, &w[i]);
}

static void each_field_of(void *v, struct vm_obj *o)
{
	each_field(v, o);
}

/* The roots a minor collection starts from, but the remembered slots:
 * root->tmp, every listed thread's references and its stack below sp,
 * the monitor table. */
static void each_root(struct vm_root *r, struct visit *v)
{
	for (unsigned i = 0; i < VM_TMP_ROOTS; i++)
		v->fn(v->arg, &r->tmp[i]);
	for (struct vm_thread *t = r->threads; t; t = t->next) {
		each_field(v, &t->h);
		for (uint64_t i = 0; t->stack && i < t->sp; i++)
			v->fn(v->arg, &t->stack->data[i]);
	}
	for (uint64_t k = 0; r->monitors && k < 3 * r->nmonitors; k++)
		v->fn(v->arg, &r->monitors->data[k]);
}

static void forward(void *arg, vm_value *slot)
{
	struct evac *e = arg;
	vm_value v = *slot;
	if (!vm_is_young(e->r, v))
		return;
	struct vm_obj *y = vm_ptr(v);
	if (v >= e->top)               /* never allocated: a stale reference */
		plat_panic("vm: reference %p past the nursery's objects (%p): "
			   "a young reference was kept where no collection saw it",
			   vm_ptr(v), (void *)(uintptr_t)e->top);
	uintptr_t c = (uintptr_t)y->cls;
	if (c & 1) {
		*slot = (vm_value)(c & ~(uintptr_t)1);
		return;
	}
	struct vm_obj *o = vm_heap_promote(e->r, y);
	if (!o)
		plat_panic("vm: no room to promote a %u-word young object "
			   "(the nursery's reserve was not kept)", y->words);
	e->words += o->words;
	y->cls = (struct vm_class *)((uintptr_t)o | 1);
	body(y)[0] = (uint64_t)(uintptr_t)e->todo;
	e->todo = y;
	*slot = vm_ref(o);
}

static void forward_roots(struct evac *e, struct visit *v)
{
	struct vm_root *r = e->r;
	each_root(r, v);
	for (uint64_t p = r->young_rem; p < r->young_hi; p += 16)
		forward(e, (vm_value *)(uintptr_t)((uint64_t *)(uintptr_t)p)[1]);
	if (r->young_overflow) {
		vm_heap_each(r, each_field_of, v);
		r->young_walks++;
	}
}

/* ---- checking (tests): no reference into the emptied nursery is left */

static void check_slot(void *r, vm_value *slot)
{
	if (vm_is_young(r, *slot))
		plat_panic("vm: slot %p still holds young %p after a minor collection",
			   (void *)slot, vm_ptr(*slot));
}

static void check_all(struct vm_root *r)
{
	struct visit v = { check_slot, r };
	each_root(r, &v);
	vm_heap_each(r, each_field_of, &v);
}

/* How much the next round may allocate before its collection. Copying
 * survivors is the collection's cost (mostly the page faults of the heap
 * pages they land on), and the one at a snapshot's instant is part of the
 * world's stop. So a round is sized to leave about VM_YOUNG_ROUND_SURVIVORS
 * to copy at the survival rate just seen, and grows at most twofold a
 * collection (a program that changes from keeping everything to keeping
 * little earns a large round gradually; the other way it shrinks at once):
 * a program whose young objects die gets the whole nursery, one that
 * keeps them all is collected every 64 KiB or so, during its run. */
#define VM_YOUNG_ROUND_SURVIVORS (64u << 10)

static uint64_t next_round(const struct vm_root *r, uint64_t used, uint64_t promoted)
{
	uint64_t size = r->young_hi - r->young_lo;
	uint64_t round = 2 * (r->young_end - r->young_lo);
	if (promoted > 0) {
		uint64_t per = used / promoted;    /* bytes allocated per byte kept */
		if (per < size / VM_YOUNG_ROUND_SURVIVORS && per * VM_YOUNG_ROUND_SURVIVORS < round)
			round = per * VM_YOUNG_ROUND_SURVIVORS;
	}
	if (round < VM_YOUNG_ROUND_MIN)
		round = VM_YOUNG_ROUND_MIN;
	return round < size ? round : size;
}

void vm_young_collect(struct vm_ctx *ctx, bool pace_now)
{
	struct vm_root *r = ctx->root;
	ctx->young_want = 0;
	if (r->young_top == r->young_lo && r->young_rem == r->young_hi && !r->young_overflow)
		return;
	struct evac e = { .r = r, .top = r->young_top };
	struct visit v = { forward, &e };
	forward_roots(&e, &v);
	while (e.todo) {
		struct vm_obj *y = e.todo;
		e.todo = (struct vm_obj *)(uintptr_t)body(y)[0];
		each_field(&v, (struct vm_obj *)((uintptr_t)y->cls & ~(uintptr_t)1));
	}
	uint64_t used = r->young_top - r->young_lo;
	r->young_end = r->young_lo + next_round(r, used, e.words * 8);
	r->young_top = r->young_lo;
	r->young_rem = r->young_hi;
	r->young_overflow = 0;
	r->young_count++;
	r->young_promoted += e.words;
	if (ctx->young_verify) {
		check_all(r);
		memset((void *)(uintptr_t)r->young_lo, 0xdb, used);
	}
	/* The old collector's share of what was promoted: now, or, when the
	 * host is waiting (a snapshot's stop), as the VM next starts. */
	ctx->young_debt += e.words;
	if (pace_now)
		vm_young_pay(ctx);
}

void vm_young_pay(struct vm_ctx *ctx)
{
	if (ctx->young_debt) {
		vm_heap_pace(ctx, ctx->young_debt);
		ctx->young_debt = 0;
	}
}

void vm_young_remember(struct vm_ctx *ctx, const void *obj, vm_value *slot)
{
	struct vm_root *r = ctx->root;
	if (r->young_rem - r->young_top < 16) {
		r->young_overflow = 1;
		ctx->young_want = 1;
		return;
	}
	r->young_rem -= 16;
	uint64_t *p = (uint64_t *)(uintptr_t)r->young_rem;
	p[0] = (uint64_t)(uintptr_t)obj;
	p[1] = (uint64_t)(uintptr_t)slot;
}

void vm_young_forget_dead(struct vm_root *r)
{
	uint64_t *keep = (uint64_t *)(uintptr_t)r->young_hi;
	for (uint64_t *p = keep; p > (uint64_t *)(uintptr_t)r->young_rem;) {
		p -= 2;
		if (vm_heap_marked(r, (struct vm_obj *)(uintptr_t)p[0])) {
			keep -= 2;
			keep[0] = p[0];
			keep[1] = p[1];
		}
	}
	r->young_rem = (uint64_t)(uintptr_t)keep;
}

void *vm_young_alloc_slow(struct vm_ctx *ctx, struct vm_class *cls, size_t words, uint32_t nrefs)
{
	struct vm_root *r = ctx->root;
	if (r->young_lo != r->young_hi && words <= VM_YOUNG_MAX_WORDS)
		ctx->young_want = 1;     /* full: empty it at the next poll */
	return vm_alloc(ctx, cls, words, nrefs);
}

vm_value vm_young_long(struct vm_ctx *ctx, int64_t n)
{
	if (vm_fits_fix(n))
		return vm_fix(n);
	struct vm_box *b = vm_alloc_young(ctx, ctx->root->builtin[VM_BI_LONG], 3, 0);
	if (!b)
		return VM_NULL;
	b->u.l = n;
	return vm_ref(b);
}

vm_value vm_young_double(struct vm_ctx *ctx, double d)
{
	struct vm_box *b = vm_alloc_young(ctx, ctx->root->builtin[VM_BI_DOUBLE], 3, 0);
	if (!b)
		return VM_NULL;
	b->u.d = d;
	return vm_ref(b);
}

/* vm.h */
void vm_young_range(struct vm_ctx *ctx, void **addr, size_t *len)
{
	*addr = (void *)(uintptr_t)ctx->root->young_lo;
	*len = (size_t)(ctx->root->young_hi - ctx->root->young_lo);
}

uint64_t vm_young_collections(struct vm_ctx *ctx)
{
	return ctx->root->young_count;
}

uint64_t vm_young_promoted_words(struct vm_ctx *ctx)
{
	return ctx->root->young_promoted;
}
