/* nat_root.c — the persistent root directory: named objects reachable from
 * the region's root header (root->dir), so they survive collections,
 * restores and reboots. Natives root.put, root.get, root.remove, root.list.
 *
 * Layout: root->dir is an array of 2*cap values, slot i holding the pair
 * (name string, object); an empty slot has name null. Open addressing with
 * linear probing on the name's FNV-1a hash; cap is a power of two and at
 * least twice ndir, and removal shifts later entries back (no tombstones),
 * so a probe ends at the first empty slot. */
#include <string.h>

#include "internal.h"

static struct vm_string *as_string(vm_value v)
{
	if (!vm_is_ref(v))
		return NULL;
	struct vm_obj *o = vm_ptr(v);
	return o->cls->kind == VM_K_STRING ? (struct vm_string *)o : NULL;
}

static uint64_t cap_of(struct vm_root *r) { return r->dir ? r->dir->h.nrefs / 2 : 0; }

/* The slot holding name, or the empty slot where it would go. */
static uint64_t probe(struct vm_root *r, struct vm_string *name, bool *found)
{
	uint64_t cap = cap_of(r), i = vm_str_hash(name) & (cap - 1);
	for (;; i = (i + 1) & (cap - 1)) {
		struct vm_string *k = vm_ptr(r->dir->data[2 * i]);
		if (!k) {
			*found = false;
			return i;
		}
		if (k->len == name->len && memcmp(k->bytes, name->bytes, k->len) == 0) {
			*found = true;
			return i;
		}
	}
}

static bool grow(struct vm_ctx *ctx)
{
	struct vm_root *r = ctx->root;
	uint64_t cap = cap_of(r) ? cap_of(r) * 2 : 16;
	struct vm_array *a = vm_new_array(ctx, 2 * cap);
	if (!a)
		return false;
	struct vm_array *old = r->dir;
	r->dir = a;
	for (uint64_t i = 0; old && i < old->h.nrefs / 2; i++) {
		if (!old->data[2 * i])
			continue;
		bool found;
		uint64_t j = probe(r, vm_ptr(old->data[2 * i]), &found);
		a->data[2 * j] = old->data[2 * i];
		a->data[2 * j + 1] = old->data[2 * i + 1];
		vm_young_store(ctx, a, &a->data[2 * j]);
		vm_young_store(ctx, a, &a->data[2 * j + 1]);
	}
	return true;
}

/* root.put(name, obj): bind (or rebind) name. */
int vm_n_root_put(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ret;
	struct vm_root *r = ctx->root;
	struct vm_string *name = as_string(a[0]);
	if (!name)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	/* Both arguments are on the caller's stack: safe across the growth. */
	if (2 * (r->ndir + 1) > cap_of(r) && !grow(ctx))
		return VM_BI_OOM + 1;
	bool found;
	uint64_t i = probe(r, name, &found);
	if (!found) {
		r->dir->data[2 * i] = a[0];
		vm_young_store(ctx, r->dir, &r->dir->data[2 * i]);
		r->ndir++;
	}
	vm_gc_barrier(r, r->dir->data[2 * i + 1]);
	r->dir->data[2 * i + 1] = a[1];
	vm_young_store(ctx, r->dir, &r->dir->data[2 * i + 1]);
	return 0;
}

/* root.get(name) -> the object, or null when unbound. */
int vm_n_root_get(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	struct vm_root *r = ctx->root;
	struct vm_string *name = as_string(a[0]);
	if (!name)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = VM_NULL;
	bool found;
	if (r->ndir) {
		uint64_t i = probe(r, name, &found);
		if (found)
			*ret = r->dir->data[2 * i + 1];
	}
	return 0;
}

/* root.remove(name) -> 1 if it was bound, else 0. */
int vm_n_root_remove(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	struct vm_root *r = ctx->root;
	struct vm_string *name = as_string(a[0]);
	if (!name)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = vm_int(0);
	bool found;
	if (!r->ndir)
		return 0;
	uint64_t cap = cap_of(r), i = probe(r, name, &found);
	if (!found)
		return 0;
	/* Backward-shift deletion: move each later entry of the cluster into
	 * the hole when its home slot does not lie in (hole, entry]. */
	vm_value *d = r->dir->data;
	vm_gc_barrier(r, d[2 * i]);    /* the removed pair; moved ones stay */
	vm_gc_barrier(r, d[2 * i + 1]);
	for (uint64_t j = (i + 1) & (cap - 1); d[2 * j]; j = (j + 1) & (cap - 1)) {
		uint64_t home = vm_str_hash(vm_ptr(d[2 * j])) & (cap - 1);
		bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (between)
			continue;
		d[2 * i] = d[2 * j];
		d[2 * i + 1] = d[2 * j + 1];
		vm_young_store(ctx, r->dir, &d[2 * i]);
		vm_young_store(ctx, r->dir, &d[2 * i + 1]);
		i = j;
	}
	d[2 * i] = d[2 * i + 1] = VM_NULL;
	r->ndir--;
	*ret = vm_int(1);
	return 0;
}

/* root.list() -> an array of the bound names, in no particular order. */
int vm_n_root_list(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)a;
	struct vm_root *r = ctx->root;
	struct vm_array *out = vm_new_array(ctx, r->ndir);
	if (!out)
		return VM_BI_OOM + 1;
	uint64_t n = 0;
	for (uint64_t i = 0; i < cap_of(r); i++)
		if (r->dir->data[2 * i]) {
			out->data[n] = r->dir->data[2 * i];
			vm_young_store(ctx, out, &out->data[n++]);
		}
	*ret = vm_ref(out);
	return 0;
}
