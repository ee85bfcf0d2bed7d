/* vm.h — the Phantom VM's public interface: format or attach a region, load
 * class files, create threads and schedule them to a safepoint, console
 * input, the collector's controls, and the transient C-side context
 * (console hook, safepoint and wake flags). All VM state lives in the
 * region; a struct vm_ctx holds only what vm_attach() rebuilds, plus this
 * boot's native resources (sockets, unread input), which a restore drops
 * by design (see docs/bytecode.md, internal functions). */
#ifndef PHANTOM_VM_H
#define PHANTOM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct vm_root;
struct vm_thread;

typedef void (*vm_out_fn)(void *arg, const char *s, size_t len);
/* Network output hook: len bytes net.write sends on socket s, or, with buf
 * NULL, net.close of s (the hook then owns s and must close it). Returns 0
 * or -ERR_x (net.write raises IOException on an error). */
struct plat_sock;
typedef int (*vm_net_out_fn)(void *arg, struct plat_sock *s, const void *buf,
			     size_t len);

struct vm_io;

/* Discard hook: [addr, addr + len), whole 4 KiB pages, is free memory the
 * heap will write before it reads it again. The host may drop it (a
 * persistent arena declares the pages unused, so no snapshot and no image
 * holds them); the heap assumes nothing about its contents afterwards. */
typedef void (*vm_discard_fn)(void *arg, void *addr, size_t len);

struct vm_ctx {
	struct vm_root *root;          /* the region's root header            */
	vm_out_fn out;                 /* console output (default: plat)      */
	void *out_arg;
	vm_net_out_fn net_out;         /* socket output (default: plat send)  */
	void *net_out_arg;
	volatile uint32_t stop;        /* safepoint request, see vm_run()     */
	volatile uint32_t wake;        /* vm_wake() was called                */
	bool console_poll;             /* read input from plat_console_read   */
	struct vm_thread *cur;         /* the thread vm_interp is running     */
	struct vm_io *io;              /* this boot's sockets, console input  */
	uint64_t (*clock)(void);       /* wall clock override (tests); NULL: plat */
	vm_discard_fn discard;         /* free memory to drop (NULL: keep it) */
	void *discard_arg;
	uint64_t discard_age_ns;       /* how long it must stay free first    */
	uint64_t young_bytes;          /* vm_format's nursery size: 0 default,
	                                * VM_YOUNG_NONE for none              */
	bool young_verify;             /* check every minor collection (tests) */
	uint32_t young_want;           /* the nursery is full: empty it at the
	                                * next safepoint                     */
	uint64_t young_debt;           /* promoted words the old collector
	                                * has not paced yet (young.c)        */
	char err[256];                 /* last error's text                   */
};
#define VM_YOUNG_NONE UINT64_MAX

/* A struct vm_ctx starts zeroed (or as a previous vm_format/vm_attach left
 * it: both close the sockets it still holds). */

/* Format [base, base+size) as an empty VM (built-in classes only).
 * base must be 8-byte aligned. The region's last pages are the nursery
 * (ctx->young_bytes; by default 1/16 of the region, at most 4 MiB, none
 * below 1 MiB), see vm_young_range. 0 or -ERR_x (message in ctx->err). */
int vm_format(struct vm_ctx *ctx, void *base, size_t size);
/* Attach to a region formatted earlier (after a restore): checks the root
 * header's magic, version and layout. 0 or -ERR_CORRUPT / -ERR_VERSION. */
int vm_attach(struct vm_ctx *ctx, void *base, size_t size);
/* Route console output (PRINT, natives) to fn instead of the platform. */
void vm_set_output(struct vm_ctx *ctx, vm_out_fn fn, void *arg);
/* Route net.write's bytes and net.close to fn instead of the platform (for
 * output commit). Sockets still open at a reset are closed directly. */
void vm_set_net_output(struct vm_ctx *ctx, vm_net_out_fn fn, void *arg);

/* Hand free heap memory to fn (see vm_discard_fn) once it has stayed free
 * for at least min_age_ns of wall-clock time: a sweep that starts that
 * long after the last discard pass is a pass, and hands over what stayed
 * free since the last pass (the pages above the highest bump pointer
 * since, and the pages of free blocks that pass saw and the allocator has
 * not cut since). Collections run as the program allocates, and when it
 * is idle through vm_gc_idle. Memory reused
 * sooner costs nothing; memory discarded and reused costs a page fault per
 * page, at most once per min_age_ns. */
void vm_set_discard(struct vm_ctx *ctx, vm_discard_fn fn, void *arg,
		    uint64_t min_age_ns);

/* Load, verify and link one class file. Nothing is changed in the region on
 * failure. 0 or -ERR_CORRUPT / -ERR_VERSION / -ERR_INVAL / -ERR_NOMEM. */
int vm_load(struct vm_ctx *ctx, const void *file, size_t len);

/* A new runnable thread at the start of static method cls.name, which must
 * take no arguments. Its id in *id. 0 or -ERR_NOENT / -ERR_NOMEM / -ERR_RANGE.
 * VM code starts threads with the thread.start natives (docs/bytecode.md). */
int vm_thread_start(struct vm_ctx *ctx, const char *cls, const char *name,
		    uint32_t *id);

enum vm_run_result {
	VM_RUN_DONE,        /* the thread returned from its entry method      */
	VM_RUN_FAILED,      /* an uncaught exception ended it (ctx->err)      */
	VM_RUN_STOPPED,     /* safepoint: budget spent or ctx->stop set       */
	VM_RUN_BLOCKED,     /* it sleeps or waits (a monitor, a join, input)  */
};
/* Run thread id until it ends, blocks, or reaches a safepoint: at most
 * `budget` safepoint polls (taken backward branches and calls; 0 = no
 * limit), or until ctx->stop is set. At a safepoint the thread's pc, fp, sp
 * are in the region: persist/ may snapshot it. Only this thread runs; one
 * that waits for another (join, a monitor, wait) needs vm_run_all.
 * Returns an enum vm_run_result or -ERR_x. */
int vm_run(struct vm_ctx *ctx, uint32_t id, uint64_t budget);

/* The safepoint API for persist/: from any platform thread, request that
 * every VM thread stop at its next poll (a taken backward branch or a call,
 * so within a bounded number of instructions); vm_run/vm_run_all then
 * return with all thread state in the region. Clear before resuming. */
static inline void vm_stop_request(struct vm_ctx *ctx) { __atomic_store_n(&ctx->stop, 1, __ATOMIC_RELEASE); }
static inline void vm_stop_clear(struct vm_ctx *ctx) { __atomic_store_n(&ctx->stop, 0, __ATOMIC_RELEASE); }

/* Run every runnable thread round-robin, `slice` polls each turn, until none
 * is runnable or ctx->stop is set. Sleepers whose time has come and blocked
 * threads whose condition holds become runnable on the way. It never
 * waits: a host sleeps until vm_next_wakeup_ns() (or until it calls
 * vm_wake()) and calls it again. Returns the number of threads that failed
 * during this call. */
int vm_run_all(struct vm_ctx *ctx, uint64_t slice);
/* The same, for at most `passes` round-robin passes (a pass gives every
 * runnable thread one slice), so a host can bound one call's work. */
int vm_run_passes(struct vm_ctx *ctx, uint64_t slice, uint64_t passes);
/* Wall-clock ns (plat_wall_ns) when a thread may next become runnable: 0 if
 * one is runnable now, UINT64_MAX if none will without outside input. */
uint64_t vm_next_wakeup_ns(struct vm_ctx *ctx);
/* From any platform thread: input or a socket may be ready; threads blocked
 * on the console or a socket retry at the next vm_run_all pass. */
static inline void vm_wake(struct vm_ctx *ctx) { __atomic_store_n(&ctx->wake, 1, __ATOMIC_RELEASE); }
/* True when no thread is RUNNABLE, SLEEPING or BLOCKED (all ended). */
bool vm_all_done(struct vm_ctx *ctx);

/* Console input, host-fed: append len bytes (len == 0: end of input) for
 * console.readLine. Call it from the thread that runs the VM (between
 * vm_run_all calls). Alternatively set ctx->console_poll = true and the VM
 * polls plat_console_read(timeout 0) itself. Bytes fed but not yet read are
 * C-side: they do not survive a restore. 0 or -ERR_NOMEM. */
int vm_console_input(struct vm_ctx *ctx, const void *bytes, size_t len);

/* Close this boot's native resources (sockets) and free the C-side
 * table, as a process exit would. After it, vm_attach may reopen them. */
void vm_detach(struct vm_ctx *ctx);

/* The entry method's result of a DONE thread. */
int vm_thread_result(struct vm_ctx *ctx, uint32_t id, vm_value *out);

/* Collect garbage now (finishing any incremental cycle first, then one
 * whole cycle). Returns the words live afterwards. */
uint64_t vm_gc(struct vm_ctx *ctx);
/* Incremental work, e.g. while every thread sleeps: start a marking cycle
 * if none is running, then mark for about `budget` words (0: only start).
 * Returns true when the cycle ended (swept). Allocation does the same
 * work on its own; calling this is never required. */
bool vm_gc_step(struct vm_ctx *ctx, uint64_t budget);
/* Collection work for an idle program (every thread sleeping or waiting):
 * does up to `budget` of it and returns true, or returns false when there
 * is none. There is while a cycle is in progress and, with a discard hook,
 * when a discard pass is due and something may be handed over: garbage
 * the last cycle could not free (allocated since, or during it), or free
 * memory not handed over yet. So memory an idle program dropped goes back
 * within a few ages, and a program idle with nothing left to hand over
 * costs nothing (a cycle writes the mark bitmap: pages for a snapshot). */
bool vm_gc_idle(struct vm_ctx *ctx, uint64_t budget);
/* Words found live by the last completed cycle. */
uint64_t vm_gc_live_words(struct vm_ctx *ctx);
/* Collection cycles completed since the region was formatted. */
uint64_t vm_gc_cycles(struct vm_ctx *ctx);
/* Collect at every allocation (stress mode for tests). */
void vm_gc_stress(struct vm_ctx *ctx, bool on);
/* Keep a marking cycle always running in tiny steps (stress mode for the
 * write barrier in tests). */
void vm_gc_incremental_stress(struct vm_ctx *ctx, bool on);

/* The nursery, where the interpreter's small objects are born: whole
 * pages at the region's end (len 0: none). It is empty whenever vm_run,
 * vm_run_all and vm_run_passes have returned (a minor collection moves
 * its survivors to the heap), so a snapshot never needs its contents: a
 * host with a persistent arena makes these pages volatile. */
void vm_young_range(struct vm_ctx *ctx, void **addr, size_t *len);
/* Minor collections since the region was formatted, and the words they
 * promoted to the heap. */
uint64_t vm_young_collections(struct vm_ctx *ctx);
uint64_t vm_young_promoted_words(struct vm_ctx *ctx);

/* Disassemble a class file to out (NUL-terminated, truncated to cap).
 * 0 or -ERR_x (the same checks as vm_load, without linking). */
int vm_disasm(const void *file, size_t len, char *out, size_t cap);

#endif
