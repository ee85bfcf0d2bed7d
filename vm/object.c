/* object.c — object constructors (arrays, strings, bytes, boxes), the class
 * of any value, subclass tests, class lookup, and the bootstrap that creates
 * the built-in classes when a region is formatted. */
#include <string.h>

#include "err.h"
#include "internal.h"

static size_t words_for(size_t bytes) { return (bytes + 7) / 8; }

struct vm_array *vm_new_array(struct vm_ctx *ctx, uint64_t n)
{
	if (n > VM_NREFS_MAX)
		return NULL;
	return vm_alloc(ctx, ctx->root->builtin[VM_BI_ARRAY], 2 + n, (uint32_t)n);
}

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

uint32_t vm_str_hash(struct vm_string *s)
{
	if (!s->hash) {
		uint32_t h = fnv1a(s->bytes, s->len);
		s->hash = h ? h : 1;
	}
	return s->hash;
}

struct vm_string *vm_new_string(struct vm_ctx *ctx, const char *s, size_t n)
{
	if (n > UINT32_MAX - 1)
		return NULL;
	struct vm_string *str = vm_alloc(ctx, ctx->root->builtin[VM_BI_STRING],
					 words_for(sizeof *str + n + 1), 0);
	if (!str)
		return NULL;
	str->len = (uint32_t)n;
	memcpy(str->bytes, s, n);
	return str;
}

struct vm_bytes *vm_new_bytes(struct vm_ctx *ctx, const void *p, size_t n)
{
	struct vm_bytes *b = vm_alloc(ctx, ctx->root->builtin[VM_BI_BYTES],
				      words_for(sizeof *b + n), 0);
	if (b) {
		b->len = n;
		if (n)
			memcpy(b->b, p, n);
	}
	return b;
}

vm_value vm_make_long(struct vm_ctx *ctx, int64_t n)
{
	if (vm_fits_fix(n))
		return vm_fix(n);
	struct vm_box *b = vm_alloc(ctx, ctx->root->builtin[VM_BI_LONG], words_for(sizeof *b), 0);
	if (!b)
		return VM_NULL;
	b->u.l = n;
	return vm_ref(b);
}

vm_value vm_make_double(struct vm_ctx *ctx, double d)
{
	struct vm_box *b = vm_alloc(ctx, ctx->root->builtin[VM_BI_DOUBLE], words_for(sizeof *b), 0);
	if (!b)
		return VM_NULL;
	b->u.d = d;
	return vm_ref(b);
}

struct vm_class *vm_class_of(const struct vm_root *r, vm_value v)
{
	if (vm_is_fix(v))
		return r->builtin[VM_BI_INT];
	if (!vm_is_ref(v))
		return NULL;
	return ((struct vm_obj *)vm_ptr(v))->cls;
}

bool vm_subclass_of(const struct vm_class *c, const struct vm_class *target)
{
	for (const struct vm_class *k = c; k; k = k->super) {
		if (k == target)
			return true;
		if (target->flags & VM_CF_INTERFACE)
			for (uint32_t i = 0; i < k->interfaces->h.nrefs; i++)
				if (vm_subclass_of(vm_ptr(k->interfaces->data[i]), target))
					return true;
	}
	return false;
}

bool vm_str_eq(const struct vm_string *s, const char *p, size_t n)
{
	return s->len == n && memcmp(s->bytes, p, n) == 0;
}

struct vm_class *vm_find_class(const struct vm_root *r, const char *name, size_t len)
{
	for (uint64_t i = 0; i < r->nclasses; i++) {
		struct vm_class *c = vm_ptr(r->classes->data[i]);
		if (vm_str_eq(c->name, name, len))
			return c;
	}
	return NULL;
}

/* ---- bootstrap ---- */

static const struct { const char *name; uint32_t kind; int super; } builtins[VM_BI_COUNT] = {
#define VM_BI_ROW_(id, nm, kind, sup) [VM_BI_##id] = { nm, VM_K_##kind, VM_BI_##sup },
#define VM_BI_NONE (-1)
	VM_BUILTINS(VM_BI_ROW_)
#undef VM_BI_NONE
#undef VM_BI_ROW_
};

int vm_bootstrap(struct vm_ctx *ctx)
{
	struct vm_root *r = ctx->root;
	r->gc_inhibit++;
	/* Class objects first, patched to be instances of Class once it exists. */
	for (int i = 0; i < VM_BI_COUNT; i++) {
		struct vm_class *c = vm_alloc(ctx, NULL, sizeof *c / 8, VM_CLASS_NREFS);
		if (!c)
			goto oom;
		c->kind = builtins[i].kind;
		c->flags = VM_CF_BUILTIN;
		r->builtin[i] = c;
	}
	for (int i = 0; i < VM_BI_COUNT; i++)
		r->builtin[i]->h.cls = r->builtin[VM_BI_CLASS];
	r->classes = vm_new_array(ctx, 2 * VM_BI_COUNT);
	if (!r->classes)
		goto oom;
	struct vm_string *msg = vm_new_string(ctx, "message", 7);
	if (!msg)
		goto oom;
	for (int i = 0; i < VM_BI_COUNT; i++) {
		struct vm_class *c = r->builtin[i];
		struct vm_class *super = builtins[i].super < 0 ? NULL : r->builtin[builtins[i].super];
		c->super = super;
		c->name = vm_new_string(ctx, builtins[i].name, strlen(builtins[i].name));
		c->methods = vm_new_array(ctx, 0);
		c->vtable = vm_new_array(ctx, 0);
		c->static_names = vm_new_array(ctx, 0);
		c->statics = vm_new_array(ctx, 0);
		c->interfaces = vm_new_array(ctx, 0);
		c->nfields = i == VM_BI_THROWABLE ? 1 : super ? super->nfields : 0;
		c->field_names = vm_new_array(ctx, c->nfields);
		if (!c->name || !c->methods || !c->vtable || !c->static_names ||
		    !c->statics || !c->interfaces || !c->field_names)
			goto oom;
		if (c->nfields)
			c->field_names->data[0] = vm_ref(msg);
		r->classes->data[r->nclasses++] = vm_ref(c);
	}
	struct vm_obj *oom = vm_alloc(ctx, r->builtin[VM_BI_OOM], 3, 1);
	if (!oom)
		goto oom;
	r->oom = vm_ref(oom);
	r->gc_inhibit--;
	return 0;
oom:
	r->gc_inhibit--;
	return vm_fail(ctx, -ERR_NOMEM, "region too small for the built-in classes");
}
