/* node.h — the Phantom node runtime, the same on the hosted node (phantomd)
 * and the bare-metal kernel: boots a VM from a persistent image (first boot:
 * format the arena, load the app's classes, start its main thread; later
 * boots: attach and resume every thread where the last committed snapshot
 * left it), keeps snapshotting it, and releases the VM's console output only
 * once the epoch that produced it has committed (outcommit.h).
 *
 * Threads: the caller of node_run() is the VM runner, the only mutator. The
 * snapshot engine stops it through struct pst_world: a stop request makes
 * vm_run_all() return at the next safepoint, the runner parks, the instant
 * happens, the runner resumes. */
#ifndef PHANTOM_NODE_H
#define PHANTOM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plat.h"

/* One class file of the app, loaded on first boot. */
struct node_class {
	const char *name;            /* for messages                         */
	const void *data;
	size_t len;
};

struct node_config {
	struct plat_blk *blk;        /* the image's device; not closed by us */
	bool create;                 /* format blk as a new image            */
	uint64_t arena_size;         /* create: arena bytes                  */
	uint64_t interval_ns;        /* snapshot period, > 0                 */
	uint32_t cow_pages;          /* copy-on-write budget (0: persist's)  */
	uint64_t discard_age_ns;     /* heap memory free this long leaves the
	                              * image (0: 10 s; see vm_set_discard)  */
	uint64_t young_bytes;        /* create: the VM's nursery (0: its default,
	                              * VM_YOUNG_NONE: none; see vm_format)  */
	bool output_commit;          /* hold output until committed          */
	size_t out_capacity;         /* held bytes before the VM waits (0: 64K) */
	/* First boot: classes loaded in order, then entry_class.entry_method
	 * started as the main thread. An image that already holds a VM ignores
	 * them. With no classes, first boot is refused (-ERR_NOENT). */
	const struct node_class *classes;
	size_t nclasses;
	const char *entry_class, *entry_method;
	/* Where released output goes (NULL: plat_console_write). */
	void (*console)(void *ctx, const char *s, size_t len);
	void *console_ctx;
	uint64_t slice;              /* safepoint polls per thread turn (0: 10000) */
	/* console.readLine polls plat_console_read (the platform console's
	 * input) instead of waiting for host-fed input. */
	bool console_poll;
};

struct node;

/* Creates or opens the image and boots the VM in it (first boot: the VM is
 * formatted, loaded and committed before node_boot returns). On failure the
 * device is left as it was (except a create), `why` says what is wrong:
 * -ERR_CORRUPT (not an image, or no VM in it), -ERR_VERSION (made by an
 * incompatible version), -ERR_NOENT (empty image and no app to load). */
int node_boot(const struct node_config *cfg, struct node **out, char *why,
	      size_t whylen);

/* True when this boot formatted the VM (a new or empty image). */
bool node_first_boot(const struct node *n);
/* The committed epoch the node booted from. */
uint64_t node_boot_epoch(const struct node *n);
/* The persistent image under the VM (for its statistics). */
struct pst_image;
struct pst_image *node_image(struct node *n);

struct node_run_result {
	bool finished;               /* no VM thread left to run             */
	unsigned failed;             /* threads ended by an uncaught exception */
	char err[256];               /* the last failure's text              */
};

/* Runs the VM on the calling thread until node_stop() or until no thread is
 * left to run. 0, or a negative error. */
int node_run(struct node *n, struct node_run_result *res);

/* Asks node_run() to return at the next safepoint. Async-signal-safe (only
 * atomic stores) and callable from any thread. */
void node_stop(struct node *n);

/* Takes a snapshot now and waits for it to commit (its output released);
 * not while node_run() is running on this thread. The epoch in *epoch. */
int node_sync(struct node *n, uint64_t timeout_ns, uint64_t *epoch);

/* The last snapshot: stops the periodic ones, then takes one and waits for
 * it to commit (its output released), so *epoch is the epoch the next boot
 * opens at. Not while node_run() is running on this thread. */
int node_final_sync(struct node *n, uint64_t timeout_ns, uint64_t *epoch);

/* Stops snapshotting and frees. final: a last snapshot is committed first
 * (its output released). 0, or the error that left that epoch uncommitted. */
int node_shutdown(struct node *n, bool final);

#endif
