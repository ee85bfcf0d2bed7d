/* pst_snapshot_test.c — the snapshot engine against an in-memory model sink
 * (a map of committed page contents): every committed image is exactly memory
 * at its instant while mutators write, one fault per distinct page, COW and
 * throttling with a tiny copy pool and a slow sink, sink errors retried
 * without losing the epoch, declared-unused pages, reopening from the model
 * as the pager, and the pause on a 1 GiB vs a 64 GiB arena (printed). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../kernel/hosted/hosted.h"
#include "../../persist/mutator.h"

#define PAGE PLAT_PAGE_SIZE
#define NP   4096u                      /* model covers a 16 MiB arena */
#define SEC  1000000000ull

/* ---- the model sink --------------------------------------------------- */

enum { K_NONE, K_PAGE, K_UNUSED };

struct model {
	uint8_t *committed[NP];      /* NULL: never saved, or unused      */
	uint8_t *staged;             /* NP pages                          */
	uint8_t kind[NP];            /* staged kind per page              */
	uint32_t touched[NP];
	size_t ntouched;
	uint64_t open_epoch, last_commit;
	int64_t last_pgno;
	uint64_t page_delay_ns;
	int fail_page, fail_end;     /* countdowns of calls to fail       */
	int errors;                  /* protocol or consistency failures  */
	char why[160];
	void (*on_commit)(struct model *m, uint64_t epoch);
	void *check_ctx;
	uint64_t checked;
};

static void model_fail(struct model *m, const char *why, uint64_t a, uint64_t b)
{
	if (m->errors++ == 0)
		snprintf(m->why, sizeof m->why, "%s (%llu, %llu)", why,
			 (unsigned long long)a, (unsigned long long)b);
}

static int m_begin(void *ctx, uint64_t epoch)
{
	struct model *m = ctx;
	if (epoch != m->last_commit + 1)
		model_fail(m, "begin: epoch not next", epoch, m->last_commit);
	for (size_t i = 0; i < m->ntouched; i++)
		m->kind[m->touched[i]] = K_NONE;
	m->ntouched = 0;
	m->open_epoch = epoch;
	m->last_pgno = -1;
	return 0;
}

static void stage(struct model *m, uint64_t epoch, uint64_t pgno, int kind,
		  const void *c)
{
	if (epoch != m->open_epoch || pgno >= NP || (int64_t)pgno < m->last_pgno) {
		model_fail(m, "page: wrong epoch or order", epoch, pgno);
		return;
	}
	m->last_pgno = (int64_t)pgno;
	if (m->kind[pgno] == K_NONE)
		m->touched[m->ntouched++] = (uint32_t)pgno;
	m->kind[pgno] = (uint8_t)kind;
	if (c != NULL)
		memcpy(m->staged + pgno * PAGE, c, PAGE);
}

static int m_page(void *ctx, uint64_t epoch, uint64_t pgno, const void *c)
{
	struct model *m = ctx;
	if (m->page_delay_ns)
		plat_sleep_ns(m->page_delay_ns);
	if (m->fail_page > 0) {
		m->fail_page--;
		return -ERR_IO;
	}
	stage(m, epoch, pgno, K_PAGE, c);
	return 0;
}

static int m_unused(void *ctx, uint64_t epoch, uint64_t pgno)
{
	stage(ctx, epoch, pgno, K_UNUSED, NULL);
	return 0;
}

static int m_end(void *ctx, uint64_t epoch)
{
	struct model *m = ctx;
	if (m->fail_end > 0) {
		m->fail_end--;
		return -ERR_IO;
	}
	if (epoch != m->open_epoch || epoch != m->last_commit + 1)
		model_fail(m, "end: wrong epoch", epoch, m->open_epoch);
	for (size_t i = 0; i < m->ntouched; i++) {
		uint32_t p = m->touched[i];
		if (m->kind[p] == K_UNUSED) {
			free(m->committed[p]);
			m->committed[p] = NULL;
			continue;
		}
		if (m->committed[p] == NULL)
			m->committed[p] = malloc(PAGE);
		memcpy(m->committed[p], m->staged + (size_t)p * PAGE, PAGE);
	}
	m->last_commit = epoch;
	if (m->on_commit)
		m->on_commit(m, epoch);
	return 0;
}

/* The committed image as a pager (runs in the fault handler: no locks; the
 * model is quiescent by then). */
static int m_page_in(void *ctx, uint64_t pgno, void *buf, bool *present)
{
	struct model *m = ctx;
	*present = pgno < NP && m->committed[pgno] != NULL;
	if (*present)
		memcpy(buf, m->committed[pgno], PAGE);
	return 0;
}

static struct model *model_new(uint64_t committed)
{
	struct model *m = calloc(1, sizeof *m);
	m->staged = malloc((size_t)NP * PAGE);
	m->last_commit = committed;
	return m;
}

static void model_free(struct model *m)
{
	for (unsigned i = 0; i < NP; i++)
		free(m->committed[i]);
	free(m->staged);
	free(m);
}

static struct pst_sink model_sink(struct model *m)
{
	return (struct pst_sink){ .ctx = m, .epoch_begin = m_begin,
		.page = m_page, .page_unused = m_unused, .epoch_end = m_end };
}

/* ---- one arena + engine ------------------------------------------------ */

struct rig {
	struct pst_arena *a;
	struct pst_mut_registry *reg;
	struct pst_snap *s;
	uint8_t *base;
};

static int rig_close(struct rig *r);

/* What a failed test left open (CHECK returns early): closed by the next
 * rig_open, so one failure does not fail every later test. */
static struct rig leftover;
static uint32_t rig_leaves;             /* leaf_reserve for the next open */

static int rig_open(struct rig *r, uint64_t size, uint32_t cow,
		    struct pst_sink sink, struct pst_world *world,
		    uint64_t committed)
{
	if (leftover.a != NULL)
		rig_close(&leftover);
	memset(r, 0, sizeof *r);
	struct pst_arena_config ac = { .size = size, .cow_pages = cow,
					.leaf_reserve = rig_leaves };
	int rc = pst_arena_open(&ac, &r->a);
	if (rc != 0)
		return rc;
	r->base = pst_arena_base(r->a);
	rc = pst_mut_registry_new(&r->reg);
	leftover = *r;
	if (rc != 0)
		return rc;
	struct pst_snap_config sc = { .arena = r->a, .sink = sink,
		.world = world ? *world : pst_mut_world(r->reg),
		.committed_epoch = committed };
	rc = pst_snap_open(&sc, &r->s);
	leftover = *r;
	return rc;
}

static int rig_close(struct rig *r)
{
	int rc = r->s ? pst_snap_close(r->s) : 0;
	pst_mut_registry_free(r->reg);
	int rc2 = pst_arena_close(r->a);
	memset(&leftover, 0, sizeof leftover);
	return rc ? rc : rc2;
}

static void fill(uint8_t *p, uint32_t pg, uint32_t c)
{
	uint32_t *w = (uint32_t *)p;
	w[0] = c;
	for (unsigned i = 1; i < PAGE / 4; i++)
		w[i] = (c * 2654435761u) ^ (pg << 12) ^ i;
}

static bool filled(const uint8_t *p, uint32_t pg, uint32_t c)
{
	uint8_t want[PAGE];
	fill(want, pg, c);
	return memcmp(p, want, PAGE) == 0;
}

static bool all_zero(const uint8_t *p)
{
	static const uint8_t zero[PAGE];
	return memcmp(p, zero, PAGE) == 0;
}

/* ---- consistency under concurrent mutators ------------------------------ */

#define THREADS 2
#define OWN     96u                     /* pages per thread */

struct consist {
	struct pst_world inner;
	struct pst_mut_registry *reg;
	uint8_t *base;
	atomic_int quit;
	uint32_t last[THREADS * OWN];       /* by the owning mutator  */
	uint32_t expected[THREADS * OWN];   /* copied at each instant */
};

static void cs_stop(void *ctx)
{
	struct consist *k = ctx;
	k->inner.stop(k->inner.ctx);
	memcpy(k->expected, k->last, sizeof k->last);  /* all parked */
}

static void cs_resume(void *ctx)
{
	struct consist *k = ctx;
	k->inner.resume(k->inner.ctx);
}

static void cs_check(struct model *m, uint64_t epoch)
{
	struct consist *k = m->check_ctx;
	for (uint32_t i = 0; i < THREADS * OWN; i++) {
		uint32_t pg = i + 1, want = k->expected[i];
		const uint8_t *got = m->committed[pg];
		/* never written: never saved, or saved as zeros by a fault-ahead */
		if (want == 0 ? got != NULL && !all_zero(got) :
		    got == NULL || !filled(got, pg, want)) {
			model_fail(m, "image is not memory at the instant",
				   epoch, pg);
			return;
		}
	}
	m->checked++;
}

struct worker { struct consist *k; int t; };

static void cs_mutator(void *arg)
{
	struct worker *w = arg;
	struct consist *k = w->k;
	struct pst_mutator *me;
	if (pst_mut_register(k->reg, &me) != 0)
		return;
	uint32_t rng = 12345u + (uint32_t)w->t * 777u, c = 0;
	while (!atomic_load(&k->quit)) {
		pst_mut_poll(me);
		c++;
		for (int j = 0; j < 6; j++) {      /* one step: 6 pages */
			rng = rng * 1103515245u + 12345u;
			uint32_t i = (uint32_t)w->t * OWN + (rng >> 8) % OWN;
			fill(k->base + (size_t)(i + 1) * PAGE, i + 1, c);
			k->last[i] = c;
		}
	}
	pst_mut_unregister(me);
}

TEST(images_are_memory_at_the_instant)
{
	struct model *m = model_new(0);
	m->page_delay_ns = 20000;           /* slow enough to force COW */
	m->on_commit = cs_check;
	struct consist *k = calloc(1, sizeof *k);
	m->check_ctx = k;
	struct rig r;
	struct pst_world w = { .ctx = k, .stop = cs_stop, .resume = cs_resume };
	CHECK_EQ(rig_open(&r, 16ull << 20, 32, model_sink(m), &w, 0), 0);
	k->inner = pst_mut_world(r.reg);
	k->reg = r.reg;
	k->base = r.base;
	struct worker ws[THREADS];
	plat_thread *th[THREADS];
	for (int t = 0; t < THREADS; t++) {
		ws[t] = (struct worker){ k, t };
		CHECK_EQ(plat_thread_create(&th[t], cs_mutator, &ws[t], "mut"), 0);
	}
	uint64_t end = plat_monotonic_ns() + 800 * 1000000ull, e = 0;
	while (plat_monotonic_ns() < end) {
		CHECK_EQ(pst_snap_take(r.s, &e), 0);
		plat_sleep_ns(2 * 1000000);
	}
	atomic_store(&k->quit, 1);
	for (int t = 0; t < THREADS; t++)
		CHECK_EQ(plat_thread_join(th[t]), 0);
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
	CHECK_EQ(memcmp(k->expected, k->last, sizeof k->last), 0);
	struct pst_arena_stats as;
	struct pst_snap_stats ss;
	pst_arena_stats(r.a, &as);
	pst_snap_stats(r.s, &ss);
	printf("  %llu epochs, %llu pages saved, %llu COW copies, %llu COW "
	       "waits, max pause %.1f us\n",
	       (unsigned long long)ss.epochs_committed,
	       (unsigned long long)ss.pages_saved,
	       (unsigned long long)as.cow_copies,
	       (unsigned long long)as.cow_waits, ss.max_pause_ns / 1e3);
	CHECKF(m->errors == 0, "%d errors: %s", m->errors, m->why);
	CHECK_EQ(ss.epochs_committed, e);
	CHECK_EQ(m->checked, e);
	CHECK_EQ(pst_snap_committed_epoch(r.s), e);
	CHECK(e >= 5);                      /* several instants mid-write */
	CHECK(as.cow_copies > 0);
	CHECK_EQ(rig_close(&r), 0);
	model_free(m);
	free(k);
}

/* ---- exact fault counts and contents ----------------------------------- */

TEST(one_fault_per_distinct_page)
{
	struct model *m = model_new(7);
	struct rig r;
	CHECK_EQ(rig_open(&r, 16ull << 20, 0, model_sink(m), NULL, 7), 0);
	CHECK_EQ(pst_snap_current_epoch(r.s), 8);
	/* 41 after 40 would take fresh pages ahead (pst_arena_fresh_test) */
	uint32_t w[] = { 41, 3, 40, 41, 3, 900, 41, 40 };
	for (unsigned i = 0; i < sizeof w / sizeof w[0]; i++)
		fill(r.base + (size_t)w[i] * PAGE, w[i], i + 1);
	struct pst_arena_stats as;
	pst_arena_stats(r.a, &as);
	CHECK_EQ(as.write_faults, 4);
	uint64_t e;
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(e, 8);
	CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
	struct pst_snap_stats ss;
	pst_snap_stats(r.s, &ss);
	CHECK_EQ(ss.last_pause_pages, 4);
	CHECK_EQ(ss.pages_saved, 4);
	CHECK_EQ(m->last_commit, 8);
	CHECK(filled(m->committed[3], 3, 5));
	CHECK(filled(m->committed[40], 40, 8));
	CHECK(filled(m->committed[41], 41, 7));
	CHECK(filled(m->committed[900], 900, 6));
	/* Next epoch: one page, one fault; an empty epoch still commits. */
	fill(r.base + 3 * PAGE, 3, 99);
	pst_arena_stats(r.a, &as);
	CHECK_EQ(as.write_faults, 5);
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(e, 10);
	CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
	CHECK(filled(m->committed[3], 3, 99));
	CHECK_EQ(pst_snap_wait(r.s, 11, 1000), -ERR_INVAL);   /* not taken */
	CHECKF(m->errors == 0, "%s", m->why);
	CHECK_EQ(rig_close(&r), 0);
	model_free(m);
}

/* ---- throttling: 4 COW slots, a sink that takes 2 ms a page ------------ */

TEST(tiny_cow_pool_throttles_but_loses_nothing)
{
	struct model *m = model_new(0);
	struct rig r;
	CHECK_EQ(rig_open(&r, 16ull << 20, 4, model_sink(m), NULL, 0), 0);
	const uint32_t n = 48;
	for (uint32_t p = 1; p <= n; p++)
		fill(r.base + (size_t)p * PAGE, p, 1);
	m->page_delay_ns = 2 * 1000000;
	uint64_t e;
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	/* Rewrite from the top down, against the writer's ascending order:
	 * nearly every page needs a copy, and only 4 slots exist. */
	uint64_t t0 = plat_monotonic_ns();
	for (uint32_t p = n; p >= 1; p--)
		fill(r.base + (size_t)p * PAGE, p, 2);
	uint64_t t1 = plat_monotonic_ns();
	struct pst_arena_stats as;
	pst_arena_stats(r.a, &as);
	printf("  rewrite of %u pages took %.1f ms: %llu copies, %llu waits "
	       "(%.1f ms waiting)\n", n, (t1 - t0) / 1e6,
	       (unsigned long long)as.cow_copies,
	       (unsigned long long)as.cow_waits, as.cow_wait_ns / 1e6);
	CHECK(as.cow_waits > 0);
	CHECK(as.cow_copies >= 4);           /* the top 4 pages at least */
	CHECK(as.cow_wait_ns > 0);
	CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
	for (uint32_t p = 1; p <= n; p++)
		CHECKF(filled(m->committed[p], p, 1), "page %u", p);
	m->page_delay_ns = 0;
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
	for (uint32_t p = 1; p <= n; p++)
		CHECKF(filled(m->committed[p], p, 2), "page %u", p);
	pst_arena_stats(r.a, &as);
	CHECK_EQ(as.cow_free, 4);
	CHECKF(m->errors == 0, "%s", m->why);
	CHECK_EQ(rig_close(&r), 0);
	model_free(m);
}

/* ---- sink errors are retried, the epoch is never lost ------------------ */

TEST(sink_errors_retried_not_lost)
{
	struct model *m = model_new(0);
	struct rig r;
	CHECK_EQ(rig_open(&r, 16ull << 20, 0, model_sink(m), NULL, 0), 0);
	for (uint32_t p = 5; p < 9; p++)
		fill(r.base + (size_t)p * PAGE, p, 3);
	m->fail_page = 1;
	m->fail_end = 2;
	uint64_t e;
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
	struct pst_snap_stats ss;
	pst_snap_stats(r.s, &ss);
	CHECK_EQ(ss.sink_errors, 3);
	CHECK_EQ(ss.last_error, -ERR_IO);
	CHECK_EQ(ss.epochs_committed, 1);
	for (uint32_t p = 5; p < 9; p++)
		CHECK(filled(m->committed[p], p, 3));
	/* A sink that never recovers: close gives up and says so. */
	fill(r.base + 5 * PAGE, 5, 4);
	m->fail_end = 1000000;
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(pst_snap_wait(r.s, e, 30 * 1000000ull), -ERR_TIMEDOUT);
	CHECK_EQ(pst_snap_committed_epoch(r.s), e - 1);
	CHECKF(m->errors == 0, "%s", m->why);
	CHECK_EQ(rig_close(&r), -ERR_IO);
	model_free(m);
}

/* ---- declared-unused pages, and reopening from the committed image ------ */

TEST(unused_pages_and_reopen)
{
	struct model *m = model_new(0);
	struct rig r;
	CHECK_EQ(rig_open(&r, 16ull << 20, 0, model_sink(m), NULL, 0), 0);
	for (uint32_t p = 10; p-- > 0;)     /* downwards: no fresh fault-ahead */
		fill(r.base + (size_t)p * PAGE, p, 11);
	uint64_t e;
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(pst_arena_declare_unused(r.a, 3, 3), 0);
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
	struct pst_snap_stats ss;
	pst_snap_stats(r.s, &ss);
	CHECK_EQ(ss.pages_saved, 10);
	CHECK_EQ(ss.pages_unused, 3);
	for (uint32_t p = 0; p < 10; p++)
		CHECKF((m->committed[p] == NULL) == (p >= 3 && p < 6), "page %u", p);
	CHECK_EQ(rig_close(&r), 0);

	struct pst_arena_config ac = { .size = 16ull << 20,
		.pager = { .ctx = m, .page_in = m_page_in } };
	struct pst_arena *a;
	CHECK_EQ(pst_arena_open(&ac, &a), 0);
	const uint8_t *base = pst_arena_base(a);
	uint8_t zero[PAGE] = { 0 };
	for (uint32_t p = 0; p < 10; p++) {
		const uint8_t *pg = base + (size_t)p * PAGE;
		if (p >= 3 && p < 6)
			CHECK(memcmp(pg, zero, PAGE) == 0);
		else
			CHECKF(filled(pg, p, 11), "page %u", p);
	}
	struct pst_arena_stats as;
	pst_arena_stats(a, &as);
	CHECK_EQ(as.pager_hits, 7);
	CHECK_EQ(as.page_ins, 10);
	CHECK_EQ(pst_arena_close(a), 0);
	model_free(m);
}

static int null_begin(void *c, uint64_t e) { (void)c; (void)e; return 0; }
static int null_page(void *c, uint64_t e, uint64_t p, const void *d)
{ (void)c; (void)e; (void)p; (void)d; return 0; }
static int null_unused(void *c, uint64_t e, uint64_t p)
{ (void)c; (void)e; (void)p; return 0; }

static struct pst_sink null_sink(void)
{
	return (struct pst_sink){ .epoch_begin = null_begin, .page = null_page,
				  .page_unused = null_unused,
				  .epoch_end = null_begin };
}

/* ---- a reserve of one leaf: mutators wait for the writer's refills ------ */

struct toucher { struct pst_mut_registry *reg; uint8_t *base; atomic_int done; };

static void touch_leaves(void *arg)
{
	struct toucher *t = arg;
	struct pst_mutator *me;
	if (pst_mut_register(t->reg, &me) != 0)
		return;
	for (uint32_t i = 0; i < 16; i++) {      /* 16 MiB apart: a leaf each */
		pst_mut_poll(me);
		fill(t->base + (size_t)i * 4096 * PAGE, i * 4096, i + 1);
	}
	pst_mut_unregister(me);
	atomic_store(&t->done, 1);
}

TEST(leaf_refills_while_snapshotting)
{
	struct rig r;
	rig_leaves = 1;
	int rc = rig_open(&r, 256ull << 20, 0, null_sink(), NULL, 0);
	rig_leaves = 0;
	CHECK_EQ(rc, 0);
	struct toucher t = { .reg = r.reg, .base = r.base };
	plat_thread *th;
	CHECK_EQ(plat_thread_create(&th, touch_leaves, &t, "toucher"), 0);
	uint64_t e, deadline = plat_monotonic_ns() + 20 * SEC;
	while (!atomic_load(&t.done) && plat_monotonic_ns() < deadline)
		CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK(atomic_load(&t.done));
	CHECK_EQ(plat_thread_join(th), 0);
	CHECK_EQ(pst_snap_take(r.s, &e), 0);
	CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
	struct pst_arena_stats as;
	pst_arena_stats(r.a, &as);
	printf("  %llu epochs; the mutator waited for a leaf %llu times\n",
	       (unsigned long long)e, (unsigned long long)as.leaf_waits);
	for (uint32_t i = 0; i < 16; i++)
		CHECK(filled(r.base + (size_t)i * 4096 * PAGE, i * 4096, i + 1));
	struct pst_snap_stats ss;
	pst_snap_stats(r.s, &ss);
	CHECK_EQ(ss.pages_saved, 16);
	CHECK_EQ(rig_close(&r), 0);
}

/* ---- the pause depends on dirty pages, not on arena size --------------- */

TEST(pause_vs_arena_size)
{
	struct pst_sink ns = null_sink();
	uint64_t sizes[] = { 1ull << 30, 64ull << 30 };
	for (int i = 0; i < 2; i++) {
		struct rig r;
		CHECK_EQ(rig_open(&r, sizes[i], 0, ns, NULL, 0), 0);
		uint64_t best = UINT64_MAX, e;
		for (int round = 0; round < 5; round++) {
			for (uint32_t p = 0; p < 1000; p++)   /* 1000 runs */
				r.base[(size_t)p * 3 * PAGE] = (uint8_t)round;
			CHECK_EQ(pst_snap_take(r.s, &e), 0);
			CHECK_EQ(pst_snap_wait(r.s, e, 10 * SEC), 0);
			struct pst_snap_stats ss;
			pst_snap_stats(r.s, &ss);
			CHECK_EQ(ss.last_pause_pages, 1000);
			if (ss.last_pause_ns < best)
				best = ss.last_pause_ns;
		}
		printf("  arena %3llu GiB: pause for 1000 dirty pages %.1f us "
		       "(best of 5)\n", (unsigned long long)(sizes[i] >> 30),
		       best / 1e3);
		CHECK_EQ(rig_close(&r), 0);
	}
}

int main(void)
{
	check_begin("pst_snapshot_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_snapshot_test/init: plat_hosted_init\n");
		return 1;
	}
	RUN(images_are_memory_at_the_instant);
	RUN(one_fault_per_distinct_page);
	RUN(tiny_cow_pool_throttles_but_loses_nothing);
	RUN(sink_errors_retried_not_lost);
	RUN(unused_pages_and_reopen);
	RUN(leaf_refills_while_snapshotting);
	RUN(pause_vs_arena_size);
	return check_done();
}
