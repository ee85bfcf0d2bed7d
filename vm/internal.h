/* internal.h — what vm/ files share and nothing outside vm/ sees: the
 * allocator, object constructors, class lookup, the interpreter's entry and
 * the native table. */
#ifndef PHANTOM_VM_INTERNAL_H
#define PHANTOM_VM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
void vm_heap_init(struct vm_root *r, uint64_t lo, uint64_t hi);

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
 * strings themselves, objects "ClassName@addr"); NULL when out of memory. */
struct vm_string *vm_to_string(struct vm_ctx *ctx, vm_value v);
/* Append v to buf the way vm_to_string prints it; returns bytes written. */
size_t vm_format_value(vm_value v, char *buf, size_t cap);

static inline struct vm_root *vm_root_of(struct vm_ctx *ctx) { return ctx->root; }
static inline vm_value vm_ref(const void *p) { return (vm_value)(uintptr_t)p; }
static inline void *vm_ptr(vm_value v) { return (void *)(uintptr_t)v; }

/* native.c: internal functions by name; fn returns 0 with the result in
 * *ret, or a builtin exception class index + 1 (see VM_BI_*) to throw. */
typedef int (*vm_native_fn)(struct vm_ctx *ctx, vm_value *args, vm_value *ret);
struct vm_native {
	const char *name;
	uint8_t nargs, nret;
	vm_native_fn fn;
};
int vm_native_lookup(const char *name, size_t len);
const struct vm_native *vm_native_get(unsigned id);

/* interp.c */
int vm_interp(struct vm_ctx *ctx, struct vm_thread *t, uint64_t budget);

#endif
