/* load.c — links a parsed class file into the region: creates its classes
 * (fields, methods, vtables), resolves its constant pool against every class
 * loaded so far, and checks each call and field access against what it
 * resolved to. All-or-nothing: the class table grows only on success, and
 * what a failed load allocated is garbage for the next collection. */
#include <string.h>

#include "err.h"
#include "classfile.h"
#include "internal.h"

struct linker {
	struct vm_ctx *ctx;
	struct vm_cf *cf;
	struct vm_array *cpool;
	struct vm_array *classes;      /* the grown class table (not yet live) */
	uint64_t nclasses;
};

static const char *kstr(const struct vm_cf *cf, uint16_t i, int *len)
{
	*len = (int)cf->k[i].len;
	return (const char *)cf->k[i].str;
}

static struct vm_class *lookup(struct linker *L, uint16_t class_k)
{
	int n;
	const char *s = kstr(L->cf, L->cf->k[class_k].a, &n);
	for (uint64_t i = 0; i < L->nclasses; i++) {
		struct vm_class *c = vm_ptr(L->classes->data[i]);
		if (vm_str_eq(c->name, s, (size_t)n))
			return c;
	}
	return NULL;
}

static bool same_name(struct vm_string *a, struct vm_string *b)
{
	return vm_str_hash(a) == vm_str_hash(b) && a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

#define NEW_OR_OOM(x) do { if (!(x)) return vm_fail(ctx, -ERR_NOMEM, "out of memory loading classes"); } while (0)

static struct vm_array *copy_array(struct vm_ctx *ctx, struct vm_array *a, uint64_t extra)
{
	struct vm_array *n = vm_new_array(ctx, a->h.nrefs + extra);
	if (n)
		memcpy(n->data, a->data, a->h.nrefs * sizeof(vm_value));
	return n;
}

static int make_method(struct linker *L, struct vm_class *c, const struct vm_cf_method *fm,
		       struct vm_method **out)
{
	struct vm_ctx *ctx = L->ctx;
	struct vm_method *m = vm_alloc(ctx, ctx->root->builtin[VM_BI_METHOD], sizeof *m / 8, VM_METHOD_NREFS);
	NEW_OR_OOM(m);
	int n;
	const char *s = kstr(L->cf, fm->name, &n);
	m->owner = c;
	m->name = vm_new_string(ctx, s, (size_t)n);
	m->code = vm_new_bytes(ctx, fm->code, fm->code_len);
	m->handlers = vm_new_bytes(ctx, fm->handlers, sizeof *fm->handlers * fm->nhandlers);
	NEW_OR_OOM(m->name && m->code && m->handlers);
	m->nargs = fm->nargs;
	m->nret = fm->nret;
	m->nlocals = fm->nlocals;
	m->max_stack = fm->max_stack;
	m->flags = fm->flags;
	m->nhandlers = fm->nhandlers;
	m->vindex = UINT32_MAX;
	*out = m;
	return 0;
}

static int make_class(struct linker *L, const struct vm_cf_class *fc)
{
	struct vm_ctx *ctx = L->ctx;
	struct vm_root *r = ctx->root;
	int n;
	const char *name = kstr(L->cf, fc->name, &n);
	for (uint64_t i = 0; i < L->nclasses; i++)
		if (vm_str_eq(((struct vm_class *)vm_ptr(L->classes->data[i]))->name, name, (size_t)n))
			return vm_fail(ctx, -ERR_EXIST, "class %.*s is already loaded", n, name);
	struct vm_class *super = r->builtin[VM_BI_OBJECT];
	if (fc->super != VM_CF_NONE) {
		super = lookup(L, fc->super);
		if (!super)
			return vm_fail(ctx, -ERR_NOENT, "class %.*s: superclass not loaded (a superclass comes first)", n, name);
		if (super->kind != VM_K_INSTANCE || (super->flags & VM_CF_INTERFACE))
			return vm_fail(ctx, -ERR_INVAL, "class %.*s: cannot extend %s", n, name, super->name->bytes);
	}
	struct vm_class *c = vm_alloc(ctx, r->builtin[VM_BI_CLASS], sizeof *c / 8, VM_CLASS_NREFS);
	NEW_OR_OOM(c);
	c->kind = VM_K_INSTANCE;
	c->flags = fc->flags;
	c->super = super;
	c->cpool = L->cpool;
	c->name = vm_new_string(ctx, name, (size_t)n);
	c->interfaces = vm_new_array(ctx, fc->nifaces);
	NEW_OR_OOM(c->name && c->interfaces);
	for (unsigned i = 0; i < fc->nifaces; i++) {
		struct vm_class *ic = lookup(L, fc->ifaces[i]);
		if (!ic || !(ic->flags & VM_CF_INTERFACE))
			return vm_fail(ctx, -ERR_NOENT, "class %.*s: interface %u not loaded or not an interface", n, name, i);
		c->interfaces->data[i] = vm_ref(ic);
	}
	unsigned nst = 0, nin = 0;
	for (unsigned i = 0; i < fc->nfields; i++)
		fc->field_flags[i] & VM_FIELD_STATIC ? nst++ : nin++;
	/* An implementing class does not inherit an interface's layout. */
	if (nin && (fc->flags & VM_CF_INTERFACE))
		return vm_fail(ctx, -ERR_INVAL, "interface %.*s declares instance fields", n, name);
	c->field_names = copy_array(ctx, super->field_names, nin);
	c->static_names = vm_new_array(ctx, nst);
	c->statics = vm_new_array(ctx, nst);
	NEW_OR_OOM(c->field_names && c->static_names && c->statics);
	c->nfields = super->nfields + nin;
	for (unsigned i = 0, si = 0, ii = super->nfields; i < fc->nfields; i++) {
		int fl;
		const char *fs = kstr(L->cf, fc->fields[i], &fl);
		struct vm_string *fn = vm_new_string(ctx, fs, (size_t)fl);
		NEW_OR_OOM(fn);
		if (fc->field_flags[i] & VM_FIELD_STATIC)
			c->static_names->data[si++] = vm_ref(fn);
		else
			c->field_names->data[ii++] = vm_ref(fn);
	}
	/* Methods and the vtable: an instance method overrides the super's
	 * entry with the same name and nargs, else takes a new slot. */
	c->methods = vm_new_array(ctx, fc->nmethods);
	c->vtable = copy_array(ctx, super->vtable, fc->nmethods);
	NEW_OR_OOM(c->methods && c->vtable);
	uint32_t nv = super->vtable->h.nrefs;
	for (unsigned i = 0; i < fc->nmethods; i++) {
		struct vm_method *m = NULL;
		int rc = make_method(L, c, &fc->methods[i], &m);
		if (rc)
			return rc;
		c->methods->data[i] = vm_ref(m);
		if (m->flags & VM_MF_STATIC) {
			if (fc->flags & VM_CF_INTERFACE)
				return vm_fail(ctx, -ERR_INVAL, "interface %.*s: static method %s", n, name, m->name->bytes);
			continue;
		}
		for (uint32_t v = 0; v < nv && m->vindex == UINT32_MAX; v++) {
			struct vm_method *o = vm_ptr(c->vtable->data[v]);
			if (o->nargs == m->nargs && same_name(o->name, m->name)) {
				if (o->nret != m->nret)
					return vm_fail(ctx, -ERR_INVAL, "%.*s.%s overrides with another result count", n, name, m->name->bytes);
				m->vindex = v;
			}
		}
		if (m->vindex == UINT32_MAX)
			m->vindex = nv++;
		c->vtable->data[m->vindex] = vm_ref(m);
	}
	c->vtable->h.nrefs = nv;       /* unused tail slots stay inside the block */
	L->classes->data[L->nclasses++] = vm_ref(c);
	return 0;
}

static int resolve_field(struct linker *L, unsigned i)
{
	struct vm_ctx *ctx = L->ctx;
	const struct vm_cf_const *k = &L->cf->k[i];
	int n;
	const char *s = kstr(L->cf, k->b, &n);
	struct vm_class *c = lookup(L, k->a);
	if (!c)
		return vm_fail(ctx, -ERR_NOENT, "constant %u: class not loaded", i);
	struct vm_fieldref *f = vm_alloc(ctx, ctx->root->builtin[VM_BI_FIELDREF], sizeof *f / 8, VM_FIELDREF_NREFS);
	NEW_OR_OOM(f);
	for (uint32_t j = c->nfields; j-- > 0;)
		if (vm_str_eq(vm_ptr(c->field_names->data[j]), s, (size_t)n)) {
			f->cls = c;
			f->index = j;
			L->cpool->data[i] = vm_ref(f);
			return 0;
		}
	for (struct vm_class *d = c; d; d = d->super)
		for (uint32_t j = 0; j < d->static_names->h.nrefs; j++)
			if (vm_str_eq(vm_ptr(d->static_names->data[j]), s, (size_t)n)) {
				f->cls = d;
				f->index = j;
				f->is_static = 1;
				L->cpool->data[i] = vm_ref(f);
				return 0;
			}
	return vm_fail(ctx, -ERR_NOENT, "no field %s.%.*s", c->name->bytes, n, s);
}

static int resolve_method(struct linker *L, unsigned i)
{
	const struct vm_cf_const *k = &L->cf->k[i];
	int n;
	const char *s = kstr(L->cf, k->b, &n);
	struct vm_class *c = lookup(L, k->a);
	if (!c)
		return vm_fail(L->ctx, -ERR_NOENT, "constant %u: class not loaded", i);
	for (struct vm_class *d = c; d; d = d->super)
		for (uint32_t j = 0; j < d->methods->h.nrefs; j++) {
			struct vm_method *m = vm_ptr(d->methods->data[j]);
			if (m->nargs == k->nargs && vm_str_eq(m->name, s, (size_t)n)) {
				if (m->nret != k->nret)
					break;
				L->cpool->data[i] = vm_ref(m);
				return 0;
			}
		}
	return vm_fail(L->ctx, -ERR_NOENT, "no method %s.%.*s taking %u and returning %u",
		       c->name->bytes, n, s, k->nargs, k->nret);
}

static int resolve(struct linker *L)
{
	struct vm_ctx *ctx = L->ctx;
	for (unsigned i = 0; i < L->cf->nconst; i++) {
		const struct vm_cf_const *k = &L->cf->k[i];
		int n, rc = 0;
		switch (k->tag) {
		case VM_CT_STRING: {
			struct vm_string *s = vm_new_string(ctx, (const char *)k->str, k->len);
			NEW_OR_OOM(s);
			L->cpool->data[i] = vm_ref(s);
			break;
		}
		case VM_CT_LONG:
			L->cpool->data[i] = vm_make_long(ctx, k->l);
			NEW_OR_OOM(L->cpool->data[i]);
			break;
		case VM_CT_DOUBLE: {
			double d;
			memcpy(&d, &k->l, sizeof d);
			L->cpool->data[i] = vm_make_double(ctx, d);
			NEW_OR_OOM(L->cpool->data[i]);
			break;
		}
		case VM_CT_CLASS: {
			struct vm_class *c = lookup(L, (uint16_t)i);
			if (!c) {
				const char *s = kstr(L->cf, k->a, &n);
				return vm_fail(ctx, -ERR_NOENT, "class %.*s is not loaded", n, s);
			}
			L->cpool->data[i] = vm_ref(c);
			break;
		}
		case VM_CT_FIELD:
			rc = resolve_field(L, i);
			break;
		case VM_CT_METHOD:
			rc = resolve_method(L, i);
			break;
		case VM_CT_NATIVE: {
			const char *s = kstr(L->cf, k->a, &n);
			int id = vm_native_lookup(s, (size_t)n);
			if (id < 0 || vm_native_get((unsigned)id)->nargs != k->nargs ||
			    vm_native_get((unsigned)id)->nret != k->nret)
				return vm_fail(ctx, -ERR_NOENT, "no native %.*s taking %u and returning %u",
					       n, s, k->nargs, k->nret);
			L->cpool->data[i] = vm_fix(id);
			break;
		}
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Each use of a constant must match what it resolved to: static calls to
 * static methods, field opcodes to the right kind of field, and so on. */
static int check_uses(struct linker *L, struct vm_method *m)
{
	const uint8_t *code = m->code->b;
	for (uint64_t pc = 0; pc < m->code->len;) {
		int op = code[pc];
		const struct vm_opinfo *oi = &vm_opinfo[op];
		if (oi->a == VM_OPD_K) {
			vm_value v = L->cpool->data[code[pc + 1] | code[pc + 2] << 8];
			struct vm_method *t = vm_ptr(v);
			struct vm_fieldref *f = vm_ptr(v);
			struct vm_class *c = vm_ptr(v);
			bool ok = true;
			switch (op) {
			case VM_OP_INVOKESTATIC: ok = t->flags & VM_MF_STATIC; break;
			case VM_OP_INVOKESPECIAL: ok = !(t->flags & (VM_MF_STATIC | VM_MF_ABSTRACT)); break;
			case VM_OP_INVOKEVIRTUAL: ok = !(t->flags & VM_MF_STATIC) &&
					!(t->owner->flags & VM_CF_INTERFACE); break;
			case VM_OP_INVOKEINTERFACE: ok = !(t->flags & VM_MF_STATIC) &&
					(t->owner->flags & VM_CF_INTERFACE); break;
			case VM_OP_GETFIELD: case VM_OP_PUTFIELD: ok = !f->is_static; break;
			case VM_OP_GETSTATIC: case VM_OP_PUTSTATIC: ok = f->is_static; break;
			case VM_OP_NEW: ok = c->kind == VM_K_INSTANCE &&
					!(c->flags & (VM_CF_INTERFACE | VM_CF_ABSTRACT)); break;
			}
			if (!ok)
				return vm_fail(L->ctx, -ERR_INVAL, "%s.%s pc %llu: %s does not fit constant %u",
					       m->owner->name->bytes, m->name->bytes, (unsigned long long)pc,
					       oi->mnemonic, code[pc + 1] | code[pc + 2] << 8);
		}
		pc += 1 + vm_opd_size(oi->a) + vm_opd_size(oi->b);
	}
	return 0;
}

int vm_load(struct vm_ctx *ctx, const void *file, size_t len)
{
	struct vm_root *r = ctx->root;
	struct vm_cf cf;
	char why[200];
	int rc = vm_cf_parse(file, len, &cf, why, sizeof why);
	if (rc)
		return vm_fail(ctx, rc, "class file rejected: %s", why);
	r->gc_inhibit++;
	struct linker L = { ctx, &cf, NULL, NULL, r->nclasses };
	L.cpool = vm_new_array(ctx, cf.nconst);
	L.classes = copy_array(ctx, r->classes, cf.nclasses + r->nclasses);
	if (!L.cpool || !L.classes)
		rc = vm_fail(ctx, -ERR_NOMEM, "out of memory loading classes");
	for (unsigned i = 0; !rc && i < cf.nclasses; i++)
		rc = make_class(&L, &cf.classes[i]);
	if (!rc)
		rc = resolve(&L);
	for (uint64_t i = r->nclasses; !rc && i < L.nclasses; i++) {
		struct vm_class *c = vm_ptr(L.classes->data[i]);
		for (uint32_t j = 0; !rc && j < c->methods->h.nrefs; j++) {
			struct vm_method *m = vm_ptr(c->methods->data[j]);
			for (uint32_t h = 0; !rc && h < m->nhandlers; h++) {
				struct vm_handler *hd = (struct vm_handler *)m->handlers->b + h;
				if (hd->class_k != VM_ANY_CLASS &&
				    !vm_subclass_of(vm_ptr(L.cpool->data[hd->class_k]), r->builtin[VM_BI_THROWABLE]))
					rc = vm_fail(ctx, -ERR_INVAL, "%s.%s: handler %u catches a non-Throwable",
						     c->name->bytes, m->name->bytes, h);
			}
			if (!rc)
				rc = check_uses(&L, m);
		}
	}
	if (!rc) {
		r->classes = L.classes;        /* the commit point */
		r->nclasses = L.nclasses;
	}
	r->gc_inhibit--;
	vm_cf_free(&cf);
	return rc;
}
