/* outcommit.h — output commit (as Remus does it): console and network output
 * a VM produced in epoch E is held until E has committed, so nothing a user
 * or client saw is ever taken back by a crash. This is the single-node case:
 * "committed" means durable in the local store; a cluster will call
 * repl_oc_commit() when a majority holds the epoch instead.
 *
 * An engine without I/O of its own: writes and commits come in, released
 * bytes go out through the sink, in the order they were written. Thread-safe:
 * one producer (the VM runner) and one committer (the snapshot writer). */
#ifndef PHANTOM_REPL_OUTCOMMIT_H
#define PHANTOM_REPL_OUTCOMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*repl_oc_sink_fn)(void *ctx, const char *s, size_t len);
/* Network sink: len bytes for channel chan (an opaque socket), or, with s
 * NULL, the channel's deferred close. Errors are the sink's to ignore. */
typedef void (*repl_oc_net_fn)(void *ctx, void *chan, const char *s,
			       size_t len);

struct repl_oc_config {
	bool hold;                   /* false: write through at once          */
	size_t capacity;             /* held bytes before the producer must
				      * wait (0: 64 KiB)                      */
	repl_oc_sink_fn sink;        /* the real console or socket            */
	void *sink_ctx;
	repl_oc_net_fn net_sink;     /* NULL: network output not accepted     */
	void *net_ctx;
};

struct repl_oc;

int repl_oc_new(const struct repl_oc_config *cfg, struct repl_oc **out);
/* Frees; bytes still held were never committed and are dropped. */
void repl_oc_free(struct repl_oc *oc);

/* Output produced while epoch `epoch` was open. Never drops and never blocks
 * for room (the producer may be in the middle of an instruction): returns
 * true when the held bytes have reached capacity, and the producer should
 * then wait at its next safepoint with repl_oc_wait_room(). Epochs passed
 * here must not decrease. */
bool repl_oc_write(struct repl_oc *oc, uint64_t epoch, const char *s,
		   size_t len);

/* As repl_oc_write, for bytes sent on channel chan; console and network
 * output are released together in the order written. Ignored when the
 * config has no net_sink. */
bool repl_oc_write_net(struct repl_oc *oc, uint64_t epoch, void *chan,
		       const char *s, size_t len);
/* Closing chan, held behind its output: the sink sees (chan, NULL, 0) once
 * epoch commits, after every byte written on chan before. At
 * repl_oc_free a held close is still carried out (nothing is sent). */
void repl_oc_close_net(struct repl_oc *oc, uint64_t epoch, void *chan);

/* Epoch `epoch` (and so every earlier one) has committed: everything tagged
 * <= epoch goes to the sink, oldest first. */
void repl_oc_commit(struct repl_oc *oc, uint64_t epoch);

/* Waits until fewer than capacity bytes are held or the monotonic deadline
 * passes: 0 or -ERR_TIMEDOUT. */
int repl_oc_wait_room(struct repl_oc *oc, uint64_t deadline_ns);

/* Bytes held, and whether they have reached capacity. */
size_t repl_oc_held(struct repl_oc *oc);
bool repl_oc_full(struct repl_oc *oc);

#endif
