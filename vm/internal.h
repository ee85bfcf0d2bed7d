/* internal.h — what vm/ files share and nothing outside vm/ sees: the
 * allocator, object constructors, class lookup, the interpreter's entry and
 * the native table. */
#ifndef PHANTOM_VM_INTERNAL_H
#define PHANTOM_VM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "object.h"
#include "vm.h"

/* Record an error message in ctx->err and return rc. */
int vm_fail(struct vm_ctx *ctx, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vm_write(struct vm_ctx *ctx, const char *s, size_t n);

/* heap.c. vm_alloc returns a zeroed block of `words` (header included)
 * whose first nrefs value words the collector scans, or NULL when the heap
 * is exhausted even after a collection. It may collect first: every value
 * the caller still needs must be reachable from the root (threads below
 * their sp, root->tmp, classes). */
void *vm_alloc(struct vm_ctx *ctx, struct vm_class *cls, size_t words, uint32_t nrefs);
void vm_heap_init(struct vm_root *r, uint64_t lo, uint64_t hi, uint64_t young_bytes);
bool vm_heap_fits(const struct vm_root *r, uintptr_t base, size_t size);
/* For young.c: a survivor's copy in the old heap (NULL: no room, which the
 * nursery's reserve rules out); the collector's share of `words` newly
 * allocated; fn on every block the program may still reach; a block's
 * mark. */
struct vm_obj *vm_heap_promote(struct vm_root *r, const struct vm_obj *young);
void vm_heap_pace(struct vm_ctx *ctx, uint64_t words);
void vm_heap_each(struct vm_root *r, void (*fn)(void *arg, struct vm_obj *o), void *arg);
bool vm_heap_marked(const struct vm_root *r, const struct vm_obj *o);
/* The write barrier: call with the old value before overwriting a
 * reference in a heap object or a root field (cheap when not marking). */
void vm_gc_shade(struct vm_root *r, vm_value v);
static inline void vm_gc_barrier(struct vm_root *r, vm_value old)
{
	if (__builtin_expect(r->gc_marking, 0))
		vm_gc_shade(r, old);
}

/* young.c: the nursery (see there). vm_alloc_young is vm_alloc for the
 * interpreter's own small objects, which may move at the next safepoint;
 * vm_young_store goes after every C store of a reference into an object
 * that is not a minor collection's root (see young.c) and returns true
 * when it remembered the slot. */
#define VM_YOUNG_MAX_WORDS 256u
#define VM_YOUNG_ROUND_MIN (32u << 10)   /* bytes a round of allocation gets, at least */
static inline bool vm_is_young(const struct vm_root *r, vm_value v)
{
	return (v & 7) == 0 && v - r->young_lo < r->young_hi - r->young_lo;
}
void *vm_young_alloc_slow(struct vm_ctx *ctx, struct vm_class *cls, size_t words, uint32_t nrefs);
static inline void *vm_alloc_young(struct vm_ctx *ctx, struct vm_class *cls, size_t words, uint32_t nrefs)
{
	struct vm_root *r = ctx->root;
	if (words < VM_OBJ_MIN_WORDS)
		words = VM_OBJ_MIN_WORDS;
	uint64_t bytes = (uint64_t)words * 8, top = r->young_top;
	if (__builtin_expect(words <= VM_YOUNG_MAX_WORDS && nrefs <= words - 2 &&
			     r->young_rem - top >= bytes && r->young_end - top >= bytes &&
			     top + bytes - r->young_lo <= r->heap_hi - r->bump, 1)) {
		struct vm_obj *o = (struct vm_obj *)(uintptr_t)top;
		r->young_top = top + bytes;
		memset(o, 0, bytes);
		o->cls = cls;
		o->words = (uint32_t)words;
		o->nrefs = nrefs;
		return o;
	}
	return vm_young_alloc_slow(ctx, cls, words, nrefs);
}
void vm_young_remember(struct vm_ctx *ctx, const void *obj, vm_value *slot);
static inline bool vm_young_store(struct vm_ctx *ctx, const void *obj, vm_value *slot)
{
	struct vm_root *r = ctx->root;
	if (__builtin_expect(vm_is_young(r, *slot), 0) && !vm_is_young(r, (vm_value)(uintptr_t)obj)) {
		vm_young_remember(ctx, obj, slot);
		return true;
	}
	return false;
}
/* Empty the nursery (at a safepoint, or with no VM code running). The
 * old collector's share of the work (what was promoted) is done now, or
 * with pace_now false left for vm_young_pay. */
void vm_young_collect(struct vm_ctx *ctx, bool pace_now);
void vm_young_pay(struct vm_ctx *ctx);
/* The sweep is starting: drop remembered slots of unmarked objects. */
void vm_young_forget_dead(struct vm_root *r);
vm_value vm_young_long(struct vm_ctx *ctx, int64_t n);
vm_value vm_young_double(struct vm_ctx *ctx, double d);

/* object.c */
int vm_bootstrap(struct vm_ctx *ctx);
struct vm_array *vm_new_array(struct vm_ctx *ctx, uint64_t n);
struct vm_string *vm_new_string(struct vm_ctx *ctx, const char *s, size_t n);
struct vm_bytes *vm_new_bytes(struct vm_ctx *ctx, const void *p, size_t n);
/* A long as an immediate when it fits, else a box; VM_NULL when out of memory. */
vm_value vm_make_long(struct vm_ctx *ctx, int64_t n);
vm_value vm_make_double(struct vm_ctx *ctx, double d);
struct vm_class *vm_class_of(const struct vm_root *r, vm_value v);
bool vm_subclass_of(const struct vm_class *c, const struct vm_class *target);
struct vm_class *vm_find_class(const struct vm_root *r, const char *name, size_t len);
/* FNV-1a of the bytes, computed on first use (never 0). */
uint32_t vm_str_hash(struct vm_string *s);
bool vm_str_eq(const struct vm_string *s, const char *p, size_t n);
/* The string form of v (ints and longs in decimal, doubles %.17g trimmed,
 * strings themselves, objects "ClassName@addr" with the address it has
 * now: a young object's changes once, when it is promoted); NULL when out
 * of memory. */
struct vm_string *vm_to_string(struct vm_ctx *ctx, vm_value v);
/* Append v to buf the way vm_to_string prints it; returns bytes written. */
size_t vm_format_value(vm_value v, char *buf, size_t cap);

static inline struct vm_root *vm_root_of(struct vm_ctx *ctx) { return ctx->root; }
static inline vm_value vm_ref(const void *p) { return (vm_value)(uintptr_t)p; }
static inline void *vm_ptr(vm_value v) { return (void *)(uintptr_t)v; }

/* native.c: internal functions by name; fn returns 0 with the result in
 * *ret, or a builtin exception class index + 1 (see VM_BI_*) to throw, or
 * VM_NAT_BLOCK: the native could not finish; it has set ctx->cur's state
 * (SLEEPING, BLOCKED, or RUNNABLE to just yield) and the pc stays on the
 * call, which re-runs when the thread is next scheduled; or VM_NAT_THROW:
 * throw the exception in *ret. A native changes nothing visible before it
 * completes except its own thread's phase/blocking fields. */
#define VM_NAT_BLOCK (-1)
#define VM_NAT_THROW (-2)
typedef int (*vm_native_fn)(struct vm_ctx *ctx, vm_value *args, vm_value *ret);
struct vm_native {
	const char *name;
	uint8_t nargs, nret;
	vm_native_fn fn;
	const char *args;              /* argument names, for docs/bytecode.md */
	const char *doc;
};
int vm_native_lookup(const char *name, size_t len);
const struct vm_native *vm_native_get(unsigned id);

/* interp.c. Sets ctx->cur to t while it runs. */
int vm_interp(struct vm_ctx *ctx, struct vm_thread *t, uint64_t budget);
/* A new instance of built-in exception bi with message msg (the
 * preallocated OutOfMemoryError when memory is short). */
vm_value vm_make_exception(struct vm_ctx *ctx, int bi, const char *msg);

/* vm.c */
struct vm_thread *vm_thread_find(struct vm_root *r, uint32_t id);

/* sched.c */
/* A new RUNNABLE thread at static method m with its one argument *arg
 * (arg NULL: m takes none); NULL with *rc = -ERR_NOMEM / -ERR_RANGE and a
 * message in ctx->err when it cannot be made. */
struct vm_thread *vm_thread_new(struct vm_ctx *ctx, struct vm_method *m, const vm_value *arg, int *rc);
/* Wall-clock now, or 0 on a VM with no platform (tests, the fuzzer). */
uint64_t vm_now_ns(struct vm_ctx *ctx);
/* Block ctx->cur on `what` (waking it again is the scheduler's job);
 * poll_ns > 0 re-polls it after that long. Returns VM_NAT_BLOCK. */
int vm_block(struct vm_ctx *ctx, enum vm_block what, vm_value on, uint64_t poll_ns);
/* Make every thread blocked on `what` (and, when on != VM_NULL, on `on`)
 * runnable again; returns how many. */
unsigned vm_unblock(struct vm_ctx *ctx, enum vm_block what, vm_value on);

/* monitor.c: re-entrant monitors in a side table (root->monitors).
 * enter returns 0 when t owns obj, VM_NAT_BLOCK when t must wait (state
 * set), or VM_BI_OOM + 1; exit returns 0 or VM_BI_IMSE + 1. */
int vm_monitor_enter(struct vm_ctx *ctx, struct vm_thread *t, vm_value obj, uint64_t count);
int vm_monitor_exit(struct vm_ctx *ctx, struct vm_thread *t, vm_value obj);
/* The count t holds on obj's monitor (0: not the owner). */
uint64_t vm_monitor_held(struct vm_root *r, struct vm_thread *t, vm_value obj);
/* Drop obj's monitor entirely (Object.wait, a thread's end). */
void vm_monitor_release(struct vm_ctx *ctx, vm_value obj);
/* Release every monitor a finished thread still holds. */
void vm_monitor_release_all(struct vm_ctx *ctx, struct vm_thread *t);

/* io.c: the C-side table of native resources for this boot. */
struct vm_io;
void vm_io_free(struct vm_ctx *ctx);
/* Poll console input (poll mode) and report whether a line or EOF is ready. */
bool vm_io_console_ready(struct vm_ctx *ctx);

#endif
