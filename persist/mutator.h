/* mutator.h — a simple registry of mutator threads and their safepoints: the
 * world-stop the snapshot engine needs (struct pst_world), for tests and for a
 * VM that has no scheduler of its own. A mutator polls at safe points (where
 * it holds no arena page half-written and no lock the stopper needs); a
 * stopper waits until every running mutator is parked or blocked. */
#ifndef PHANTOM_PST_MUTATOR_H
#define PHANTOM_PST_MUTATOR_H

#include "snapshot.h"

struct pst_mut_registry;
struct pst_mutator;

int pst_mut_registry_new(struct pst_mut_registry **out);
void pst_mut_registry_free(struct pst_mut_registry *r);

/* The calling thread becomes a mutator (waits if the world is stopped). */
int pst_mut_register(struct pst_mut_registry *r, struct pst_mutator **out);
void pst_mut_unregister(struct pst_mutator *m);

/* A safe point: parks here while the world is stopped. One atomic load when
 * nobody is stopping it. */
void pst_mut_poll(struct pst_mutator *m);

/* Around a blocking call (I/O, a lock, pst_snap_take itself): between block
 * and unblock the mutator counts as parked and must not touch the arena;
 * unblock waits while the world is stopped. */
void pst_mut_block(struct pst_mutator *m);
void pst_mut_unblock(struct pst_mutator *m);

/* Stop returns when every registered mutator is parked or blocked; the
 * caller must not itself be a running mutator. One stopper at a time (a
 * second waits for resume). */
void pst_mut_stop(struct pst_mut_registry *r);
void pst_mut_resume(struct pst_mut_registry *r);

/* The registry as the snapshot engine's world. */
struct pst_world pst_mut_world(struct pst_mut_registry *r);

/* How a parked mutator waits out a world stop: called and returns with mu
 * held, once *stopped (written under mu, with __atomic stores) is 0. A stop
 * lasts well under a millisecond, and a thread that sleeps through one
 * wakes late: ~30 us after the resume on an idle 2-vCPU VM (against ~2 us
 * spinning), milliseconds when the machine is busy, as it then waits for a
 * CPU behind the snapshot writer that the resume has just set going. So it
 * spins first, mu released, yielding each round (a thread the stopper
 * needs may share its CPU), for up to PST_PARK_SPIN_NS, and only then
 * sleeps on cv (which the resumer broadcasts). */
#define PST_PARK_SPIN_NS 2000000ull
void pst_park_wait(plat_mutex *mu, plat_cond *cv, const unsigned *stopped);

#endif
