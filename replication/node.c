/* node.c — the node runtime (node.h): boot from an image, the VM runner
 * loop, the world-stop the snapshot engine uses, and the glue that tags VM
 * output with its epoch and releases it on commit (outcommit.h).
 *
 * Lock rule: n->mu guards stopping and parked and epoch (stopping changes
 * atomically too, so the parked runner can spin on it: pst_park_wait); the
 * VM's stop flag is set by anyone, and cleared only under n->mu with
 * stopping == 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"
#include "node.h"
#include "outcommit.h"
#include "../persist/arena.h"
#include "../persist/image.h"
#include "../persist/mutator.h"
#include "../vm/vm.h"

#define NODE_SLICE        10000u
#define NODE_BOOT_SYNC_NS (60ull * 1000000000ull)
#define NODE_ROOM_WAIT_NS (20ull * 1000000ull)
#define NODE_IDLE_NS      (10ull * 1000000ull)
#define NODE_DISCARD_AGE_NS (10ull * 1000000000ull)
#define NODE_IDLE_GC_BUDGET (1u << 16)     /* collector work per idle step */

struct node {
	struct node_config cfg;
	struct pst_image *img;
	struct repl_oc *oc;
	struct vm_ctx vm;
	bool first_boot;
	uint64_t boot_epoch;

	plat_mutex *mu;
	plat_cond *cv;
	unsigned stopping;           /* world stops in progress             */
	bool parked;                 /* the runner is outside the VM        */
	/* The epoch the runner's next VM step belongs to: the engine's open
	 * epoch. Advanced by world_resume, i.e. at every instant, because
	 * the engine itself advances its own count only after resuming the
	 * world; a failed instant makes it run ahead, which only holds output
	 * longer (safe), never shorter. */
	uint64_t epoch;
	int quit;                    /* node_stop(): atomic                 */
};

/* ---- the world: the runner is the only mutator --------------------------- */

static void world_stop(void *arg)
{
	struct node *n = arg;
	plat_mutex_lock(n->mu);
	__atomic_add_fetch(&n->stopping, 1, __ATOMIC_SEQ_CST);
	vm_stop_request(&n->vm);
	while (!n->parked)
		plat_cond_wait(n->cv, n->mu);
	plat_mutex_unlock(n->mu);
}

static void world_resume(void *arg)
{
	struct node *n = arg;
	plat_mutex_lock(n->mu);
	n->epoch++;
	if (__atomic_sub_fetch(&n->stopping, 1, __ATOMIC_RELEASE) == 0)
		plat_cond_broadcast(n->cv);
	plat_mutex_unlock(n->mu);
}

/* ---- output: tagged on the runner, released by the snapshot writer ------- */

static void console_sink(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	plat_console_write(s, len);
}

static void vm_output(void *arg, const char *s, size_t len)
{
	struct node *n = arg;
	/* Only the runner writes, and n->epoch changes only while it is
	 * parked, so reading it unlocked here is race-free. */
	if (repl_oc_write(n->oc, n->epoch, s, len))
		vm_stop_request(&n->vm);     /* wait for room at a safepoint */
}

/* Released socket output: a peer that vanished meanwhile is no error of the
 * release (the VM sees it on its next read or write). */
static void net_sink(void *ctx, void *chan, const char *s, size_t len)
{
	(void)ctx;
	if (s == NULL)
		plat_sock_close(chan);
	else
		(void)plat_sock_send(chan, s, len);
}

/* The heap's long-free memory (vm_set_discard): its pages are declared
 * unused, so no snapshot saves them and the image drops them. Called by
 * the runner, the only mutator, inside a VM or idle collection step; the
 * heap touches none of it meanwhile. A failure (memory for the page table) only keeps them. */
static void vm_discard(void *arg, void *addr, size_t len)
{
	struct node *n = arg;
	uintptr_t base = (uintptr_t)pst_image_base(n->img);
	uintptr_t off = (uintptr_t)addr - base;
	if ((uintptr_t)addr < base || off > pst_image_size(n->img) ||
	    len > pst_image_size(n->img) - off ||
	    off % PLAT_PAGE_SIZE != 0 || len % PLAT_PAGE_SIZE != 0)
		return;
	pst_arena_declare_unused(pst_image_arena(n->img), off / PLAT_PAGE_SIZE,
				 len / PLAT_PAGE_SIZE);
}

/* The VM's nursery is empty whenever the runner parks (vm_young_range), so
 * no snapshot needs it: its pages are volatile, never trapped on or saved. */
static int volatile_nursery(struct node *n, char *why, size_t whylen)
{
	void *addr;
	size_t len;
	vm_young_range(&n->vm, &addr, &len);
	if (len == 0)
		return 0;
	uintptr_t off = (uintptr_t)addr - (uintptr_t)pst_image_base(n->img);
	if (off % PLAT_PAGE_SIZE != 0 || len % PLAT_PAGE_SIZE != 0) {
		/* Rounding would make a page of the heap volatile. */
		snprintf(why, whylen, "the VM's nursery is not page aligned");
		return -ERR_INVAL;
	}
	int rc = pst_arena_set_volatile(pst_image_arena(n->img), off / PLAT_PAGE_SIZE,
					len / PLAT_PAGE_SIZE);
	if (rc < 0)
		snprintf(why, whylen, "cannot make the VM's nursery volatile: %s",
			 err_str(rc));
	return rc;
}

/* net.write / net.close on the runner: tagged like console output. */
static int vm_net_output(void *arg, struct plat_sock *s, const void *buf,
			 size_t len)
{
	struct node *n = arg;
	if (buf == NULL)
		repl_oc_close_net(n->oc, n->epoch, s);
	else if (repl_oc_write_net(n->oc, n->epoch, s, buf, len))
		vm_stop_request(&n->vm);
	return 0;
}

static void on_commit(void *ctx, uint64_t epoch)
{
	repl_oc_commit(((struct node *)ctx)->oc, epoch);
}

/* ---- boot ---------------------------------------------------------------- */

/* Formats the arena as a VM holding the app and starts its main thread. */
static int first_boot(struct node *n, char *why, size_t whylen)
{
	const struct node_config *c = &n->cfg;
	if (c->nclasses == 0 || c->entry_class == NULL || c->entry_method == NULL) {
		snprintf(why, whylen, "the image holds no VM yet and no app was given to load");
		return -ERR_NOENT;
	}
	int rc = vm_format(&n->vm, pst_image_base(n->img), pst_image_size(n->img));
	if (rc < 0) {
		snprintf(why, whylen, "cannot format the VM: %s", n->vm.err);
		return rc;
	}
	for (size_t i = 0; i < c->nclasses; i++) {
		rc = vm_load(&n->vm, c->classes[i].data, c->classes[i].len);
		if (rc < 0) {
			snprintf(why, whylen, "cannot load class file %s: %s",
				 c->classes[i].name, n->vm.err);
			return rc;
		}
	}
	rc = vm_thread_start(&n->vm, c->entry_class, c->entry_method, NULL);
	if (rc < 0)
		snprintf(why, whylen, "cannot start %s.%s: %s", c->entry_class,
			 c->entry_method, n->vm.err);
	return rc;
}

/* The VM in an opened image: attach, or format when the image never held
 * one (created, then cut off before its first boot committed). */
static int attach(struct node *n, char *why, size_t whylen)
{
	const uint64_t *word = pst_image_base(n->img);
	if (word[0] == 0 && word[1] == 0) {
		n->first_boot = true;
		return first_boot(n, why, whylen);
	}
	int rc = vm_attach(&n->vm, pst_image_base(n->img), pst_image_size(n->img));
	if (rc == -ERR_VERSION)
		snprintf(why, whylen, "the image was made by an incompatible VM: %s",
			 n->vm.err);
	else if (rc < 0)
		snprintf(why, whylen, "the image holds no usable VM: %s", n->vm.err);
	return rc;
}

static void node_free(struct node *n)
{
	repl_oc_free(n->oc);
	if (n->cv)
		plat_cond_free(n->cv);
	if (n->mu)
		plat_mutex_free(n->mu);
	free(n);
}

int node_boot(const struct node_config *cfg, struct node **out, char *why,
	      size_t whylen)
{
	why[0] = 0;
	if (cfg->blk == NULL || cfg->interval_ns == 0) {
		snprintf(why, whylen, "node: a device and a snapshot interval are required");
		return -ERR_INVAL;
	}
	struct node *n = calloc(1, sizeof *n);
	if (n == NULL)
		return -ERR_NOMEM;
	n->cfg = *cfg;
	if (n->cfg.slice == 0)
		n->cfg.slice = NODE_SLICE;
	/* Until the boot is done the booting thread is a running mutator:
	 * the snapshot clock waits for it. */
	n->parked = false;
	struct repl_oc_config occ = {
		.hold = cfg->output_commit, .capacity = cfg->out_capacity,
		.sink = cfg->console ? cfg->console : console_sink,
		.sink_ctx = cfg->console_ctx,
		.net_sink = net_sink,
	};
	int rc = plat_mutex_new(&n->mu);
	if (rc == 0)
		rc = plat_cond_new(&n->cv);
	if (rc == 0)
		rc = repl_oc_new(&occ, &n->oc);
	if (rc < 0) {
		snprintf(why, whylen, "node: %s", err_str(rc));
		node_free(n);
		return rc;
	}
	vm_set_output(&n->vm, vm_output, n);
	vm_set_net_output(&n->vm, vm_net_output, n);
	vm_set_discard(&n->vm, vm_discard, n, cfg->discard_age_ns ?
		       cfg->discard_age_ns : NODE_DISCARD_AGE_NS);
	n->vm.console_poll = cfg->console_poll;    /* kept by format/attach */
	n->vm.young_bytes = cfg->young_bytes;

	struct pst_image_config ic = {
		.blk = cfg->blk, .arena_size = cfg->arena_size,
		.world = { .ctx = n, .stop = world_stop, .resume = world_resume },
		.interval_ns = cfg->interval_ns, .cow_pages = cfg->cow_pages,
		.on_commit = on_commit, .cb_ctx = n,
	};
	rc = cfg->create ? pst_image_create(&ic, &n->img, why, whylen)
			 : pst_image_open(&ic, &n->img, why, whylen);
	if (rc < 0) {
		if (why[0] == 0)
			snprintf(why, whylen, "%s", err_str(rc));
		node_free(n);
		return rc;
	}
	struct pst_snap *snap = pst_image_snap(n->img);
	n->boot_epoch = pst_snap_committed_epoch(snap);
	n->epoch = pst_snap_current_epoch(snap);
	n->first_boot = cfg->create;
	rc = cfg->create ? first_boot(n, why, whylen) : attach(n, why, whylen);
	if (rc == 0)
		rc = volatile_nursery(n, why, whylen);

	plat_mutex_lock(n->mu);
	n->parked = true;
	plat_cond_broadcast(n->cv);
	plat_mutex_unlock(n->mu);
	if (rc < 0) {
		/* Nothing of a failed boot may become committed. */
		pst_image_close(n->img, false);
		node_free(n);
		return rc;
	}
	if (n->first_boot) {
		rc = pst_image_sync(n->img, NODE_BOOT_SYNC_NS, NULL);
		if (rc < 0) {
			snprintf(why, whylen, "cannot commit the first boot: %s",
				 err_str(rc));
			pst_image_close(n->img, false);
			node_free(n);
			return rc;
		}
	}
	*out = n;
	return 0;
}

bool node_first_boot(const struct node *n) { return n->first_boot; }
uint64_t node_boot_epoch(const struct node *n) { return n->boot_epoch; }
struct pst_image *node_image(struct node *n) { return n->img; }

/* ---- the runner ---------------------------------------------------------- */

void node_stop(struct node *n)
{
	__atomic_store_n(&n->quit, 1, __ATOMIC_SEQ_CST);
	vm_stop_request(&n->vm);
}

/* Every thread sleeps or waits: sleep, parked (so snapshots go on), until
 * the earliest wakeup, at most NODE_IDLE_NS so node_stop() is seen soon;
 * then threads waiting for console or socket input poll again (vm_wake):
 * there is no readiness signal from the platform yet.
 * Called and returns with n->mu held. */
static void idle(struct node *n)
{
	uint64_t wake = vm_next_wakeup_ns(&n->vm);     /* wall clock */
	uint64_t now = plat_wall_ns();
	uint64_t ns = wake <= now ? 0 : wake - now;
	if (ns > NODE_IDLE_NS)
		ns = NODE_IDLE_NS;
	uint64_t deadline = plat_monotonic_ns() + ns;
	while (ns > 0 && !__atomic_load_n(&n->quit, __ATOMIC_SEQ_CST) &&
	       plat_cond_wait_until(n->cv, n->mu, deadline) != -ERR_TIMEDOUT)
		;
	vm_wake(&n->vm);
}

/* Every thread sleeps or waits: one step of idle collection (vm_gc_idle:
 * memory the program dropped goes back even if it allocates no more), run
 * unparked like any VM step. False when there is none to do.
 * Called and returns with n->mu held. */
static bool idle_collect(struct node *n)
{
	if (n->stopping > 0)
		return false;
	n->parked = false;
	plat_mutex_unlock(n->mu);
	bool worked = vm_gc_idle(&n->vm, NODE_IDLE_GC_BUDGET);
	plat_mutex_lock(n->mu);
	n->parked = true;
	plat_cond_broadcast(n->cv);
	return worked;
}

int node_run(struct node *n, struct node_run_result *res)
{
	memset(res, 0, sizeof *res);
	plat_mutex_lock(n->mu);
	for (;;) {
		pst_park_wait(n->mu, n->cv, &n->stopping);
		/* No stopper now: any stop request left is node_stop's (seen
		 * through quit, stored before the request) or our own. */
		vm_stop_clear(&n->vm);
		if (__atomic_load_n(&n->quit, __ATOMIC_SEQ_CST))
			break;
		if (repl_oc_full(n->oc)) {
			/* Parked, so the clock's snapshots proceed and commit. */
			plat_mutex_unlock(n->mu);
			repl_oc_wait_room(n->oc, plat_monotonic_ns() + NODE_ROOM_WAIT_NS);
			plat_mutex_lock(n->mu);
			continue;
		}
		n->parked = false;
		plat_mutex_unlock(n->mu);
		int failed = vm_run_all(&n->vm, n->cfg.slice);
		plat_mutex_lock(n->mu);
		n->parked = true;
		plat_cond_broadcast(n->cv);
		if (failed > 0) {
			res->failed += (unsigned)failed;
			snprintf(res->err, sizeof res->err, "%s", n->vm.err);
		}
		/* vm_run_all returns with the flag clear only when no thread is
		 * runnable (nobody can clear it while we are unparked). */
		if (__atomic_load_n(&n->vm.stop, __ATOMIC_ACQUIRE))
			continue;
		if (vm_all_done(&n->vm)) {
			res->finished = true;
			break;
		}
		if (!idle_collect(n))
			idle(n);
	}
	plat_mutex_unlock(n->mu);
	return 0;
}

int node_sync(struct node *n, uint64_t timeout_ns, uint64_t *epoch)
{
	return pst_image_sync(n->img, timeout_ns, epoch);
}

int node_final_sync(struct node *n, uint64_t timeout_ns, uint64_t *epoch)
{
	pst_image_stop_clock(n->img);
	return pst_image_sync(n->img, timeout_ns, epoch);
}

int node_shutdown(struct node *n, bool final)
{
	int rc = pst_image_close(n->img, final);
	node_free(n);
	return rc;
}
