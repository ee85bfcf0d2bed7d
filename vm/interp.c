/* interp.c — the bytecode interpreter: one thread's loop, dispatched by
 * computed goto over the labels opcodes.def names. Owns the calling
 * convention (frame layout in object.h), exception unwinding and the
 * safepoint poll.
 *
 * Safepoints: the loop polls at every taken backward branch, every call and
 * every entry to an exception handler, before the instruction has any
 * effect, so any loop (a handler may cover its own target), recursion or
 * throw reaches a poll within a bounded number of instructions. At a poll that stops, pc,
 * fp, sp and method are written back to the thread object and the
 * instruction re-executes on resume. A poll is also where the nursery is
 * emptied when it fills (YOUNG_WANTED makes the next poll come due; the
 * thread then runs on with its budget): the interpreter holds no object
 * in a C variable there, and objects move only then. Before anything that may allocate (and
 * so collect), SAVE() writes sp back: the collector scans stacks below sp.
 * Operands an allocation still needs stay on the stack until it is done.
 * Superinstructions (iaddll ... sconcat3) behave exactly like the sequences
 * opcodes.def names for them, type checks and exceptions included. */
#include <string.h>

#include "classfile.h"
#include "internal.h"

static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline int32_t rd32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

static bool get_long(vm_value v, int64_t *out)
{
	if (vm_is_fix(v)) {
		*out = vm_fix_val(v);
		return true;
	}
	if (vm_is_ref(v) && ((struct vm_obj *)vm_ptr(v))->cls->kind == VM_K_LONG) {
		*out = ((struct vm_box *)vm_ptr(v))->u.l;
		return true;
	}
	return false;
}

static bool get_double(vm_value v, double *out)
{
	if (vm_is_ref(v) && ((struct vm_obj *)vm_ptr(v))->cls->kind == VM_K_DOUBLE) {
		*out = ((struct vm_box *)vm_ptr(v))->u.d;
		return true;
	}
	return false;
}

static int32_t d2i(double d)
{
	if (d != d)
		return 0;
	if (d >= 2147483647.0)
		return INT32_MAX;
	if (d <= -2147483648.0)
		return INT32_MIN;
	return (int32_t)d;
}

static int64_t d2l(double d)
{
	if (d != d)
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

/* The bytes of v's string form: a string's own bytes, or v formatted into
 * buf (ints, boxes, other objects); allocates nothing. */
static const char *str_bytes(vm_value v, char *buf, size_t cap, uint32_t *len)
{
	if (vm_is_ref(v) && ((struct vm_obj *)vm_ptr(v))->cls->kind == VM_K_STRING) {
		struct vm_string *s = vm_ptr(v);
		*len = s->len;
		return s->bytes;
	}
	*len = (uint32_t)vm_format_value(v, buf, cap);
	return buf;
}

/* A new instance of built-in exception class bi with a message; the
 * preallocated OutOfMemoryError when memory is short. */
vm_value vm_make_exception(struct vm_ctx *ctx, int bi, const char *msg)
{
	struct vm_root *r = ctx->root;
	struct vm_string *s = vm_new_string(ctx, msg, strlen(msg));
	if (!s)
		return r->oom;
	r->tmp[0] = vm_ref(s);
	struct vm_class *c = r->builtin[bi];
	struct vm_obj *e = vm_alloc(ctx, c, 2 + c->nfields, c->nfields);
	r->tmp[0] = VM_NULL;
	if (!e)
		return r->oom;
	((vm_value *)(e + 1))[0] = vm_ref(s);
	return vm_ref(e);
}

static struct vm_method *find_by_name(struct vm_class *c, struct vm_method *decl)
{
	for (uint32_t i = 0; i < c->vtable->h.nrefs; i++) {
		struct vm_method *m = vm_ptr(c->vtable->data[i]);
		if (m->nargs == decl->nargs && m->nret == decl->nret && vm_str_hash(m->name) == vm_str_hash(decl->name) &&
		    m->name->len == decl->name->len &&
		    memcmp(m->name->bytes, decl->name->bytes, m->name->len) == 0)
			return m;
	}
	return NULL;
}

static const struct vm_handler *find_handler(struct vm_root *r, struct vm_method *m,
					     uint32_t off, vm_value ex)
{
	const struct vm_handler *h = (const struct vm_handler *)m->handlers->b;
	struct vm_class *ec = vm_class_of(r, ex);
	for (uint32_t i = 0; i < m->nhandlers; i++, h++) {
		if (off < h->start || off >= h->end)
			continue;
		if (h->class_k == VM_ANY_CLASS ||
		    vm_subclass_of(ec, vm_ptr(m->owner->cpool->data[h->class_k])))
			return h;
	}
	return NULL;
}

static void describe_uncaught(struct vm_ctx *ctx, vm_value ex)
{
	struct vm_root *r = ctx->root;
	struct vm_class *c = vm_class_of(r, ex);
	const char *msg = "";
	if (c && c->nfields && vm_subclass_of(c, r->builtin[VM_BI_THROWABLE])) {
		vm_value mv = ((vm_value *)((struct vm_obj *)vm_ptr(ex) + 1))[0];
		if (vm_is_ref(mv) && ((struct vm_obj *)vm_ptr(mv))->cls->kind == VM_K_STRING)
			msg = ((struct vm_string *)vm_ptr(mv))->bytes;
	}
	vm_fail(ctx, 0, "uncaught %s: %s", c ? c->name->bytes : "?", msg);
}

/* A poll came due (pc, sp, fp saved). Polls cut short for the nursery
 * (held: the budget that was left) get their minor collection here, where
 * the interpreter holds no object in a C variable, and the thread runs on.
 * True: return to the host (ctx->stop, or the budget is spent). */
static bool poll_due(struct vm_ctx *ctx, uint64_t *polls, uint64_t *held)
{
	if (!*held)
		return true;
	vm_young_collect(ctx, true);
	*polls = *held - 1;
	*held = 0;
	return ctx->stop || *polls == 0;
}

int vm_interp(struct vm_ctx *ctx, struct vm_thread *t, uint64_t budget)
{
	static void *const labels[VM_OP_COUNT] = {
#define X(name, mn, a, b, pop, push, flow, doc) [VM_OP_##name] = &&L_##name,
#include "opcodes.def"
#undef X
	};
	struct vm_root *r = ctx->root;
	struct vm_method *m = t->method;
	const uint8_t *code = m->code->b;
	const uint8_t *pc = code + t->pc;
	vm_value *base = t->stack->data;
	vm_value *stack_end = base + t->stack->h.nrefs;
	vm_value *fp = base + t->fp;
	vm_value *sp = base + t->sp;
	vm_value *cp = m->owner->cpool->data;
	uint64_t polls = budget ? budget : UINT64_MAX, held = 0;
	int exc_class = 0;
	const char *exc_msg = "";
	vm_value ex;
	struct vm_method *callee;
	ctx->cur = t;

#define SAVE() (t->pc = (uint64_t)(pc - code), t->sp = (uint64_t)(sp - base), \
		t->fp = (uint64_t)(fp - base), t->method = m)
#define DISPATCH() goto *labels[*pc]
#define NEXT(n) do { pc += (n); DISPATCH(); } while (0)
#define POLL() do { if (__builtin_expect(--polls == 0 || ctx->stop, 0)) { \
		SAVE(); if (poll_due(ctx, &polls, &held)) return VM_RUN_STOPPED; } } while (0)
	/* The nursery wants emptying: make the next poll come due now, and
	 * keep the budget left (held) for after the collection. */
#define YOUNG_WANTED() do { if (__builtin_expect(ctx->young_want, 0) && !held) { \
		held = polls; polls = 1; } } while (0)
#define THROW(bi, msg) do { exc_class = VM_BI_##bi; exc_msg = (msg); goto throw_builtin; } while (0)
#define NEED_INTS(a, b) do { if (!((a) & (b) & 1)) { THROW(CCE, "operand is not an int"); } } while (0)
#define THROW_BI(i) do { exc_class = (i); exc_msg = "internal call failed"; goto throw_builtin; } while (0)
#define IV(v) ((int32_t)vm_fix_val(v))
#define BRANCH(cond) do { if (cond) { int32_t off_ = rd32(pc + 1); pc += off_; \
		if (off_ <= 0) { POLL(); } DISPATCH(); } NEXT(5); } while (0)
#define ALLOC_CHECK(v) do { if (!(v)) { RETRY_YOUNG(); ex = r->oom; goto throw_value; } \
		YOUNG_WANTED(); } while (0)
	/* Memory ran out while the nursery holds objects: what it holds is
	 * kept room (its survivors must fit in the heap), mostly garbage.
	 * Empty it and run the instruction again: pc is still on it, its
	 * operands on the stack, and it has done nothing visible yet (a
	 * native likewise). With the nursery empty, out of memory is real. */
#define RETRY_YOUNG() do { if (r->young_top != r->young_lo) { SAVE(); \
		vm_young_collect(ctx, true); DISPATCH(); } } while (0)

	DISPATCH();

L_NOP: NEXT(1);
L_ACONST_NULL: *sp++ = VM_NULL; NEXT(1);
L_ICONST: *sp++ = vm_int(rd32(pc + 1)); NEXT(5);
L_LDC: *sp++ = cp[rd16(pc + 1)]; NEXT(3);
L_LOAD: *sp++ = fp[rd16(pc + 1)]; NEXT(3);
L_STORE: fp[rd16(pc + 1)] = *--sp; NEXT(3);
L_IINC: {
	vm_value *l = &fp[rd16(pc + 1)];
	if (!vm_is_fix(*l))
		THROW(CCE, "iinc: local is not an int");
	*l = vm_int((int32_t)((uint32_t)IV(*l) + (uint32_t)rd32(pc + 3)));
	NEXT(7);
}
L_POP: sp--; NEXT(1);
L_DUP: sp[0] = sp[-1]; sp++; NEXT(1);
L_DUP_X1: { vm_value x = sp[-1]; sp[0] = x; sp[-1] = sp[-2]; sp[-2] = x; sp++; NEXT(1); }
L_DUP_X2: { vm_value x = sp[-1]; sp[0] = x; sp[-1] = sp[-2]; sp[-2] = sp[-3]; sp[-3] = x; sp++; NEXT(1); }
L_SWAP: { vm_value x = sp[-1]; sp[-1] = sp[-2]; sp[-2] = x; NEXT(1); }

#define IBIN(name, expr) L_##name: { vm_value b_ = sp[-1], a_ = sp[-2]; NEED_INTS(a_, b_); \
	uint32_t x = (uint32_t)IV(a_), y = (uint32_t)IV(b_); (void)x; (void)y; \
	sp[-2] = vm_int((int32_t)(expr)); sp--; NEXT(1); }
IBIN(IADD, x + y)
IBIN(ISUB, x - y)
IBIN(IMUL, x * y)
IBIN(IAND, x & y)
IBIN(IOR, x | y)
IBIN(IXOR, x ^ y)
IBIN(ISHL, x << (y & 31))
IBIN(ISHR, (uint32_t)((int32_t)x >> (y & 31)))
IBIN(IUSHR, x >> (y & 31))
L_IDIV: L_IREM: {
	vm_value b = sp[-1], a = sp[-2];
	NEED_INTS(a, b);
	int32_t x = IV(a), y = IV(b);
	if (y == 0)
		THROW(ARITH, "/ by zero");
	int32_t q = (x == INT32_MIN && y == -1) ? (*pc == VM_OP_IDIV ? INT32_MIN : 0)
		: (*pc == VM_OP_IDIV ? x / y : x % y);
	sp[-2] = vm_int(q);
	sp--;
	NEXT(1);
}
L_INEG: if (!vm_is_fix(sp[-1])) THROW(CCE, "ineg: not an int");
	sp[-1] = vm_int((int32_t)(0u - (uint32_t)IV(sp[-1]))); NEXT(1);

	/* Longs: the immediate fast path allocates nothing; a result outside
	 * 63 bits, or a boxed operand, takes the general path. */
#define LBIN(name, expr) L_##name: { int64_t x, y; \
	if (!get_long(sp[-2], &x) || !get_long(sp[-1], &y)) THROW(CCE, "operand is not a long"); \
	uint64_t ux = (uint64_t)x, uy = (uint64_t)y; (void)ux; (void)uy; \
	if ((*pc == VM_OP_LDIV || *pc == VM_OP_LREM) && y == 0) THROW(ARITH, "/ by zero"); \
	int64_t z = (int64_t)(expr); \
	if (vm_fits_fix(z)) sp[-2] = vm_fix(z); \
	else { SAVE(); vm_value v_ = vm_young_long(ctx, z); ALLOC_CHECK(v_); sp[-2] = v_; } \
	sp--; NEXT(1); }
LBIN(LADD, ux + uy)
LBIN(LSUB, ux - uy)
LBIN(LMUL, ux * uy)
LBIN(LAND, ux & uy)
LBIN(LOR, ux | uy)
LBIN(LXOR, ux ^ uy)
LBIN(LSHL, ux << (uy & 63))
LBIN(LSHR, x >> (uy & 63))
LBIN(LUSHR, ux >> (uy & 63))
LBIN(LDIV, (x == INT64_MIN && y == -1) ? INT64_MIN : x / y)
LBIN(LREM, (x == INT64_MIN && y == -1) ? 0 : x % y)
LBIN(LCMP, x < y ? -1 : x > y)
L_LNEG: { int64_t x;
	if (!get_long(sp[-1], &x)) THROW(CCE, "lneg: not a long");
	int64_t z = (int64_t)(0 - (uint64_t)x);
	if (vm_fits_fix(z)) sp[-1] = vm_fix(z);
	else { SAVE(); vm_value v = vm_young_long(ctx, z); ALLOC_CHECK(v); sp[-1] = v; }
	NEXT(1); }

#define DBIN(name, expr) L_##name: { double x, y; \
	if (!get_double(sp[-2], &x) || !get_double(sp[-1], &y)) THROW(CCE, "operand is not a double"); \
	SAVE(); vm_value v_ = vm_young_double(ctx, (expr)); ALLOC_CHECK(v_); \
	sp[-2] = v_; sp--; NEXT(1); }
DBIN(DADD, x + y)
DBIN(DSUB, x - y)
DBIN(DMUL, x * y)
DBIN(DDIV, x / y)
L_DCMPL: L_DCMPG: { double x, y;
	if (!get_double(sp[-2], &x) || !get_double(sp[-1], &y)) THROW(CCE, "operand is not a double");
	int c = x < y ? -1 : x > y ? 1 : x == y ? 0 : (*pc == VM_OP_DCMPG ? 1 : -1);
	sp[-2] = vm_int(c); sp--; NEXT(1); }

	/* One-operand conversions; the operand stays on the stack until the
	 * result (which may be a new box) replaces it. */
#define DUN(name, get, T, res) L_##name: { T x; \
	if (!get(sp[-1], &x)) THROW(CCE, #name ": wrong operand type"); \
	SAVE(); vm_value v_ = (res); ALLOC_CHECK(v_); sp[-1] = v_; NEXT(1); }
DUN(DNEG, get_double, double, vm_young_double(ctx, -x))
DUN(F2F, get_double, double, vm_young_double(ctx, (double)(float)x))
DUN(I2L, get_long, int64_t, vm_fix((int32_t)x))
DUN(L2I, get_long, int64_t, vm_int((int32_t)(uint32_t)(uint64_t)x))
DUN(I2D, get_long, int64_t, vm_young_double(ctx, (double)(int32_t)x))
DUN(L2D, get_long, int64_t, vm_young_double(ctx, (double)x))
DUN(D2I, get_double, double, vm_int(d2i(x)))
DUN(D2L, get_double, double, vm_young_long(ctx, d2l(x)))
DUN(I2B, get_long, int64_t, vm_int((int8_t)x))
DUN(I2C, get_long, int64_t, vm_int((uint16_t)x))
DUN(I2S, get_long, int64_t, vm_int((int16_t)x))

L_GOTO: { int32_t off = rd32(pc + 1); pc += off; if (off <= 0) { POLL(); } DISPATCH(); }
#define IF0(name, op) L_##name: { vm_value v = *--sp; \
	if (!vm_is_fix(v)) { THROW(CCE, "branch on a non-int"); } BRANCH(IV(v) op 0); }
IF0(IFEQ, ==)
IF0(IFNE, !=)
IF0(IFLT, <)
IF0(IFGE, >=)
IF0(IFGT, >)
IF0(IFLE, <=)
#define IF2(name, op) L_##name: { vm_value b = sp[-1], a = sp[-2]; sp -= 2; \
	NEED_INTS(a, b); BRANCH(IV(a) op IV(b)); }
IF2(IF_ICMPEQ, ==)
IF2(IF_ICMPNE, !=)
IF2(IF_ICMPLT, <)
IF2(IF_ICMPGE, >=)
IF2(IF_ICMPGT, >)
IF2(IF_ICMPLE, <=)
L_IF_ACMPEQ: sp -= 2; BRANCH(sp[0] == sp[1]);
L_IF_ACMPNE: sp -= 2; BRANCH(sp[0] != sp[1]);
L_IFNULL: sp--; BRANCH(sp[0] == VM_NULL);
L_IFNONNULL: sp--; BRANCH(sp[0] != VM_NULL);

L_NEW: {
	struct vm_class *c = vm_ptr(cp[rd16(pc + 1)]);
	SAVE();
	struct vm_obj *o = vm_alloc_young(ctx, c, 2 + c->nfields, c->nfields);
	ALLOC_CHECK(o);
	*sp++ = vm_ref(o);
	NEXT(3);
}
	/* Field access checks the object's class, so a wrong object raises
	 * ClassCastException rather than reading another layout's slot. */
#define FIELD_OBJ(v, f, o) \
	if (!vm_is_ref(v)) { if ((v) == VM_NULL) THROW(NPE, "field access on null"); \
		THROW(CCE, "field access on an int"); } \
	struct vm_obj *o = vm_ptr(v); \
	if ((o->cls != (f)->cls && !vm_subclass_of(o->cls, (f)->cls)) || (f)->index >= o->nrefs) \
		THROW(CCE, "object lacks the field")
L_GETFIELD: {
	struct vm_fieldref *f = vm_ptr(cp[rd16(pc + 1)]);
	FIELD_OBJ(sp[-1], f, o);
	sp[-1] = ((vm_value *)(o + 1))[f->index];
	NEXT(3);
}
L_PUTFIELD: {
	struct vm_fieldref *f = vm_ptr(cp[rd16(pc + 1)]);
	FIELD_OBJ(sp[-2], f, o);
	vm_value *slot = &((vm_value *)(o + 1))[f->index];
	vm_gc_barrier(r, *slot);
	*slot = sp[-1];
	if (vm_young_store(ctx, o, slot))
		YOUNG_WANTED();
	sp -= 2;
	NEXT(3);
}
L_GETSTATIC: {
	struct vm_fieldref *f = vm_ptr(cp[rd16(pc + 1)]);
	*sp++ = f->cls->statics->data[f->index];
	NEXT(3);
}
L_PUTSTATIC: {
	struct vm_fieldref *f = vm_ptr(cp[rd16(pc + 1)]);
	vm_gc_barrier(r, f->cls->statics->data[f->index]);
	f->cls->statics->data[f->index] = *--sp;
	if (vm_young_store(ctx, f->cls->statics, &f->cls->statics->data[f->index]))
		YOUNG_WANTED();
	NEXT(3);
}
L_INSTANCEOF: {
	struct vm_class *c = vm_ptr(cp[rd16(pc + 1)]);
	vm_value v = sp[-1];
	sp[-1] = vm_int(v != VM_NULL && vm_subclass_of(vm_class_of(r, v), c));
	NEXT(3);
}
L_CHECKCAST: {
	struct vm_class *c = vm_ptr(cp[rd16(pc + 1)]);
	vm_value v = sp[-1];
	if (v != VM_NULL && !vm_subclass_of(vm_class_of(r, v), c))
		THROW(CCE, "checkcast failed");
	NEXT(3);
}

L_INVOKESTATIC: L_INVOKESPECIAL:
	callee = vm_ptr(cp[rd16(pc + 1)]);
	if (*pc == VM_OP_INVOKESPECIAL && sp[-callee->nargs] == VM_NULL)
		THROW(NPE, "call on null");
	goto call;
L_INVOKEVIRTUAL: {
	struct vm_method *decl = vm_ptr(cp[rd16(pc + 1)]);
	vm_value recv = sp[-decl->nargs];
	if (recv == VM_NULL)
		THROW(NPE, "call on null");
	struct vm_class *c = vm_class_of(r, recv);
	if ((c != decl->owner && !vm_subclass_of(c, decl->owner)) || decl->vindex >= c->vtable->h.nrefs)
		THROW(CCE, "receiver lacks the method");
	callee = vm_ptr(c->vtable->data[decl->vindex]);
	goto call;
}
L_INVOKEINTERFACE: {
	struct vm_method *decl = vm_ptr(cp[rd16(pc + 1)]);
	vm_value recv = sp[-decl->nargs];
	if (recv == VM_NULL)
		THROW(NPE, "call on null");
	callee = find_by_name(vm_class_of(r, recv), decl);
	if (!callee)
		THROW(AME, "receiver does not implement the interface method");
	goto call;
}
call: {
	if (callee->flags & VM_MF_ABSTRACT)
		THROW(AME, "abstract method called");
	POLL();
	vm_value *nfp = sp - callee->nargs;
	if (stack_end - nfp < (ptrdiff_t)(callee->nlocals + VM_FRAME_INFO + callee->max_stack))
		THROW(SOE, "stack overflow");
	for (unsigned i = callee->nargs; i < callee->nlocals; i++)
		nfp[i] = VM_NULL;
	vm_value *info = nfp + callee->nlocals;
	info[0] = vm_ref(m);
	info[1] = vm_fix(pc + 3 - code);
	info[2] = vm_fix(fp - base);
	m = callee;
	code = m->code->b;
	cp = m->owner->cpool->data;
	pc = code;
	fp = nfp;
	sp = info + VM_FRAME_INFO;
	DISPATCH();
}
L_RETURN: L_VRETURN: {
	vm_value *info = fp + m->nlocals;
	vm_value v = *pc == VM_OP_VRETURN ? sp[-1] : VM_NULL;
	bool has = *pc == VM_OP_VRETURN;
	sp = fp;
	if (info[0] == VM_NULL) {
		t->result = v;
		vm_young_store(ctx, t, &t->result);
		t->state = VM_TS_DONE;
		t->method = NULL;
		t->sp = 0;
		t->pc = 0;
		return VM_RUN_DONE;
	}
	m = vm_ptr(info[0]);
	code = m->code->b;
	cp = m->owner->cpool->data;
	pc = code + vm_fix_val(info[1]);
	fp = base + vm_fix_val(info[2]);
	if (has)
		*sp++ = v;
	DISPATCH();
}
L_INVOKENATIVE: {
	vm_value k = cp[rd16(pc + 1)];
	const struct vm_native *nat = vm_native_get((unsigned)vm_fix_val(k));
	vm_value ret = VM_NULL;
	SAVE();
	int rc = nat->fn(ctx, sp - nat->nargs, &ret);
	if (rc == VM_NAT_BLOCK)
		return t->state == VM_TS_RUNNABLE ? VM_RUN_STOPPED : VM_RUN_BLOCKED;
	if (rc == VM_NAT_THROW) {
		if (ret == r->oom)    /* no room for its exception: see RETRY_YOUNG */
			RETRY_YOUNG();
		ex = ret;
		goto throw_value;
	}
	if (rc == VM_BI_OOM + 1)
		RETRY_YOUNG();
	if (rc > 0)
		THROW_BI(rc - 1);
	sp -= nat->nargs;
	YOUNG_WANTED();
	if (nat->nret)
		*sp++ = ret;
	NEXT(3);
}

L_NEWARRAY: {
	vm_value n = sp[-1];
	if (!vm_is_fix(n))
		THROW(CCE, "array size is not an int");
	if (vm_fix_val(n) < 0)
		THROW(NEGSIZE, "negative array size");
	SAVE();
	uint64_t len = (uint64_t)vm_fix_val(n);
	struct vm_array *a = len + 2 <= VM_YOUNG_MAX_WORDS ?
		vm_alloc_young(ctx, r->builtin[VM_BI_ARRAY], 2 + len, (uint32_t)len) :
		vm_new_array(ctx, len);
	ALLOC_CHECK(a);
	sp[-1] = vm_ref(a);
	NEXT(1);
}
#define ARRAY_OBJ(v, a) \
	if (!vm_is_ref(v)) { if ((v) == VM_NULL) THROW(NPE, "array access on null"); \
		THROW(CCE, "not an array"); } \
	struct vm_array *a = vm_ptr(v); \
	if (a->h.cls->kind != VM_K_ARRAY) THROW(CCE, "not an array")
#define INDEX_OK(a, i) (vm_is_fix(i) && (uint64_t)vm_fix_val(i) < (a)->h.nrefs)
L_ALOAD: {
	ARRAY_OBJ(sp[-2], a);
	if (!INDEX_OK(a, sp[-1]))
		THROW(AIOOBE, "array index out of bounds");
	sp[-2] = a->data[vm_fix_val(sp[-1])];
	sp--;
	NEXT(1);
}
L_ASTORE: {
	ARRAY_OBJ(sp[-3], a);
	if (!INDEX_OK(a, sp[-2]))
		THROW(AIOOBE, "array index out of bounds");
	vm_gc_barrier(r, a->data[vm_fix_val(sp[-2])]);
	a->data[vm_fix_val(sp[-2])] = sp[-1];
	if (vm_young_store(ctx, a, &a->data[vm_fix_val(sp[-2])]))
		YOUNG_WANTED();
	sp -= 3;
	NEXT(1);
}
L_ARRAYLENGTH: {
	ARRAY_OBJ(sp[-1], a);
	sp[-1] = vm_int((int32_t)a->h.nrefs);
	NEXT(1);
}
L_SCONCAT: {
	SAVE();
	struct vm_string *x = vm_to_string(ctx, sp[-2]);
	ALLOC_CHECK(x);
	r->tmp[1] = vm_ref(x);
	struct vm_string *y = vm_to_string(ctx, sp[-1]);
	if (!y) {
		r->tmp[1] = VM_NULL;
		ALLOC_CHECK(y);
	}
	r->tmp[2] = vm_ref(y);
	uint64_t zl = (uint64_t)x->len + y->len;
	struct vm_string *z = zl < UINT32_MAX ?
		vm_alloc_young(ctx, r->builtin[VM_BI_STRING], (sizeof *z + zl + 1 + 7) / 8, 0) : NULL;
	if (z) {
		z->len = (uint32_t)zl;
		memcpy(z->bytes, x->bytes, x->len);
		memcpy(z->bytes + x->len, y->bytes, y->len);
	}
	r->tmp[1] = r->tmp[2] = VM_NULL;
	ALLOC_CHECK(z);
	sp[-2] = vm_ref(z);
	sp--;
	NEXT(1);
}
L_THROW: {
	ex = sp[-1];
	if (ex == VM_NULL)
		THROW(NPE, "throw null");
	if (!vm_subclass_of(vm_class_of(r, ex), r->builtin[VM_BI_THROWABLE]))
		THROW(CCE, "throw of a non-Throwable");
	goto throw_value;
}
L_MONITORENTER: L_MONITOREXIT: {
	/* A contended enter blocks the thread on this instruction; it
	 * re-executes when the owner leaves (monitor.c). */
	if (!vm_is_ref(sp[-1]))
		THROW(NPE, "monitor on null or an int");
	SAVE();
	int rc = *pc == VM_OP_MONITORENTER ? vm_monitor_enter(ctx, t, sp[-1], 1)
		: vm_monitor_exit(ctx, t, sp[-1]);
	if (rc == VM_NAT_BLOCK)
		return VM_RUN_BLOCKED;
	if (rc == VM_BI_OOM + 1)
		RETRY_YOUNG();
	if (rc > 0) {
		exc_msg = rc - 1 == VM_BI_IMSE ? "monitorexit by a thread that does not own the monitor"
			: "no memory for a monitor";
		exc_class = rc - 1;
		goto throw_builtin;
	}
	sp--;
	NEXT(1);
}
L_PRINT: {
	vm_value v = sp[-1];
	if (vm_is_ref(v) && ((struct vm_obj *)vm_ptr(v))->cls->kind == VM_K_STRING) {
		struct vm_string *s = vm_ptr(v);
		vm_write(ctx, s->bytes, s->len);
	} else {
		char buf[96];
		vm_write(ctx, buf, vm_format_value(v, buf, sizeof buf));
	}
	vm_write(ctx, "\n", 1);
	sp--;
	NEXT(1);
}

L_IADDLL: {
	vm_value a = fp[rd16(pc + 1)], b = fp[rd16(pc + 3)];
	NEED_INTS(a, b);
	*sp++ = vm_int((int32_t)((uint32_t)IV(a) + (uint32_t)IV(b)));
	NEXT(5);
}
L_IADDI: L_IANDI: {
	vm_value a = sp[-1];
	if (!vm_is_fix(a))
		THROW(CCE, "operand is not an int");
	uint32_t x = (uint32_t)IV(a), y = (uint32_t)rd32(pc + 1);
	sp[-1] = vm_int((int32_t)(*pc == VM_OP_IADDI ? x + y : x & y));
	NEXT(5);
}
L_IADDST: {
	vm_value *l = &fp[rd16(pc + 1)];
	vm_value v = sp[-1];
	NEED_INTS(*l, v);
	*l = vm_int((int32_t)((uint32_t)IV(*l) + (uint32_t)IV(v)));
	sp--;
	NEXT(3);
}
L_IINCLOAD: {
	vm_value *l = &fp[rd16(pc + 1)];
	if (!vm_is_fix(*l))
		THROW(CCE, "iincload: local is not an int");
	*l = vm_int((int32_t)((uint32_t)IV(*l) + (uint32_t)rd32(pc + 3)));
	*sp++ = *l;
	NEXT(7);
}
L_IF_ICMPLTI: {
	vm_value v = sp[-1];
	if (!vm_is_fix(v))
		THROW(CCE, "branch on a non-int");
	sp--;
	if (IV(v) < rd32(pc + 5)) {
		int32_t off = rd32(pc + 1);
		pc += off;
		if (off <= 0)
			POLL();
		DISPATCH();
	}
	NEXT(9);
}
L_SCONCAT3: {
	/* The operands stay on the stack (rooted) until the result is built;
	 * non-strings are formatted into buffers, not allocated. */
	char bx[96], by[96], bz[96];
	uint32_t nx, ny, nz;
	SAVE();
	const char *px = str_bytes(sp[-3], bx, sizeof bx, &nx);
	const char *py = str_bytes(sp[-2], by, sizeof by, &ny);
	const char *pz = str_bytes(sp[-1], bz, sizeof bz, &nz);
	uint64_t zl = (uint64_t)nx + ny + nz;
	struct vm_string *z = zl < UINT32_MAX ?
		vm_alloc_young(ctx, r->builtin[VM_BI_STRING], (sizeof *z + zl + 1 + 7) / 8, 0) : NULL;
	ALLOC_CHECK(z);
	z->len = (uint32_t)zl;
	memcpy(z->bytes, px, nx);
	memcpy(z->bytes + nx, py, ny);
	memcpy(z->bytes + nx + ny, pz, nz);
	sp[-3] = vm_ref(z);
	sp -= 2;
	NEXT(1);
}

throw_builtin:
	SAVE();
	ex = vm_make_exception(ctx, exc_class, exc_msg);
	/* No room for the exception while the nursery holds anything: empty
	 * it (a safepoint: the state is saved, and no object is held in a C
	 * variable past this point) and make it again. */
	if (ex == r->oom && exc_class != VM_BI_OOM && r->young_top != r->young_lo) {
		vm_young_collect(ctx, true);
		ex = vm_make_exception(ctx, exc_class, exc_msg);
	}
throw_value: {
	/* pc is on the throwing instruction in this frame; in callers it is
	 * the return address, so the call itself is pc - 1. */
	uint32_t off = (uint32_t)(pc - code);
	for (;;) {
		const struct vm_handler *h = find_handler(r, m, off, ex);
		if (h) {
			sp = fp + m->nlocals + VM_FRAME_INFO;
			*sp++ = ex;
			pc = code + h->target;
			/* A handler may cover its own target: throwing in a loop
			 * with no backward branch must still reach a safepoint. */
			POLL();
			DISPATCH();
		}
		vm_value *info = fp + m->nlocals;
		if (info[0] == VM_NULL) {
			t->exception = ex;
			vm_young_store(ctx, t, &t->exception);
			t->state = VM_TS_FAILED;
			t->method = NULL;
			t->sp = 0;
			describe_uncaught(ctx, ex);
			return VM_RUN_FAILED;
		}
		sp = fp;
		m = vm_ptr(info[0]);
		code = m->code->b;
		cp = m->owner->cpool->data;
		pc = code + vm_fix_val(info[1]);
		fp = base + vm_fix_val(info[2]);
		off = (uint32_t)(pc - code) - 1;
	}
}
}
