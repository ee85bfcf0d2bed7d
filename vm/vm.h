/* vm.h — the Phantom VM's public interface: format or attach a region, load
 * class files, create threads and run them to a safepoint, and the transient
 * C-side context (console hook, safepoint flag). All VM state lives in the
 * region; a struct vm_ctx holds only what can be rebuilt by vm_attach(). */
#ifndef PHANTOM_VM_H
#define PHANTOM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct vm_root;
struct vm_thread;

typedef void (*vm_out_fn)(void *arg, const char *s, size_t len);

struct vm_ctx {
	struct vm_root *root;          /* the region's root header            */
	vm_out_fn out;                 /* console output (default: plat)      */
	void *out_arg;
	volatile uint32_t stop;        /* safepoint request, see vm_run()     */
	char err[256];                 /* last error's text                   */
};

/* Format [base, base+size) as an empty VM (built-in classes only).
 * base must be 8-byte aligned. 0 or -ERR_x (message in ctx->err). */
int vm_format(struct vm_ctx *ctx, void *base, size_t size);
/* Attach to a region formatted earlier (after a restore): checks the root
 * header's magic, version and layout. 0 or -ERR_CORRUPT / -ERR_VERSION. */
int vm_attach(struct vm_ctx *ctx, void *base, size_t size);
/* Route console output (PRINT, natives) to fn instead of the platform. */
void vm_set_output(struct vm_ctx *ctx, vm_out_fn fn, void *arg);

/* Load, verify and link one class file. Nothing is changed in the region on
 * failure. 0 or -ERR_CORRUPT / -ERR_VERSION / -ERR_INVAL / -ERR_NOMEM. */
int vm_load(struct vm_ctx *ctx, const void *file, size_t len);

/* A new runnable thread at the start of static method cls.name, which must
 * take no arguments. Its id in *id. 0 or -ERR_NOENT / -ERR_NOMEM. */
int vm_thread_start(struct vm_ctx *ctx, const char *cls, const char *name,
		    uint32_t *id);

enum vm_run_result {
	VM_RUN_DONE,        /* the thread returned from its entry method      */
	VM_RUN_FAILED,      /* an uncaught exception ended it (ctx->err)      */
	VM_RUN_STOPPED,     /* safepoint: budget spent or ctx->stop set       */
};
/* Run thread id until it ends or reaches a safepoint: at most `budget`
 * safepoint polls (taken backward branches and calls; 0 = no limit), or
 * until ctx->stop is set. At a safepoint the thread's pc, fp, sp are in the
 * region: persist/ may snapshot it. Returns an enum vm_run_result or -ERR_x. */
int vm_run(struct vm_ctx *ctx, uint32_t id, uint64_t budget);

/* The safepoint API for persist/: from any platform thread, request that
 * every VM thread stop at its next poll (a taken backward branch or a call,
 * so within a bounded number of instructions); vm_run/vm_run_all then
 * return with all thread state in the region. Clear before resuming. */
static inline void vm_stop_request(struct vm_ctx *ctx) { __atomic_store_n(&ctx->stop, 1, __ATOMIC_RELEASE); }
static inline void vm_stop_clear(struct vm_ctx *ctx) { __atomic_store_n(&ctx->stop, 0, __ATOMIC_RELEASE); }

/* Run every runnable thread round-robin, `slice` polls each turn, until none
 * is runnable or ctx->stop is set. Returns the number of failed threads. */
int vm_run_all(struct vm_ctx *ctx, uint64_t slice);

/* The entry method's result of a DONE thread. */
int vm_thread_result(struct vm_ctx *ctx, uint32_t id, vm_value *out);

/* Collect garbage now. Returns the words live afterwards. */
uint64_t vm_gc(struct vm_ctx *ctx);
/* Collect at every allocation (stress mode for tests). */
void vm_gc_stress(struct vm_ctx *ctx, bool on);

/* Disassemble a class file to out (NUL-terminated, truncated to cap).
 * 0 or -ERR_x (the same checks as vm_load, without linking). */
int vm_disasm(const void *file, size_t len, char *out, size_t cap);

#endif
