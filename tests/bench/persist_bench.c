/* persist_bench.c — benchmark part "persist": the snapshot pause (p50/p99)
 * for 1, 100 and 10000 dirty pages on 1 GiB and 64 GiB arenas (and 10000
 * between present clean pages), the writer's
 * throughput into a null sink, and a 64 MiB snapshot to a file against the
 * peer Redis uses (fork(), the child writes the copy-on-write image); then
 * the whole path through the store (persist/image.c): commit throughput and
 * delta size on an object-heap mutation pattern, 100 000 dirty pages, the
 * time to reopen a 1 GiB image and touch its first page, and a mutator's
 * throughput with snapshots at 100 Hz through the store against none.
 * PERSIST_BENCH_ONLY=pauses|writer|fork|image|mutator runs one section. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_report.h"
#include "hosted.h"
#include "../../persist/image.h"
#include "../../persist/mutator.h"

#define PAGE     PLAT_PAGE_SIZE
#define BIG      (64ull << 20)          /* the file comparison's image */
#define OUT_FILE "build/bench/persist_snapshot.tmp"

static int n_begin(void *c, uint64_t e) { (void)c; (void)e; return 0; }
static int n_page(void *c, uint64_t e, uint64_t p, const void *d)
{ (void)c; (void)e; (void)p; (void)d; return 0; }
static int n_unused(void *c, uint64_t e, uint64_t p)
{ (void)c; (void)e; (void)p; return 0; }

/* A file sink: pages appended, fsync at epoch_end (durable commit). */
static int f_page(void *c, uint64_t e, uint64_t p, const void *d)
{
	(void)e;
	int fd = *(int *)c;
	return pwrite(fd, d, PAGE, (off_t)(p * PAGE)) == PAGE ? 0 : -ERR_IO;
}
static int f_end(void *c, uint64_t e)
{
	(void)e;
	return fsync(*(int *)c) == 0 ? 0 : -ERR_IO;
}

struct rig {
	struct pst_arena *a;
	struct pst_mut_registry *reg;
	struct pst_snap *s;
	uint8_t *base;
};

static int rig_open(struct rig *r, uint64_t size, struct pst_sink sink)
{
	struct pst_arena_config ac = { .size = size };
	int rc = pst_arena_open(&ac, &r->a);
	if (rc != 0)
		return rc;
	r->base = pst_arena_base(r->a);
	if ((rc = pst_mut_registry_new(&r->reg)) != 0)
		return rc;
	struct pst_snap_config sc = { .arena = r->a, .sink = sink,
		.world = pst_mut_world(r->reg) };
	return pst_snap_open(&sc, &r->s);
}

static void rig_close(struct rig *r)
{
	pst_snap_close(r->s);
	pst_mut_registry_free(r->reg);
	pst_arena_close(r->a);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Pauses with d dirty pages, every other page. With clean_gaps the pages
 * between them were read first (present, clean), as in a real heap, so the
 * instant re-protects a few long runs instead of one run per dirty page. */
static int bench_pauses(uint64_t size, const char *label, bool clean_gaps)
{
	struct pst_sink ns = { .epoch_begin = n_begin, .page = n_page,
			       .page_unused = n_unused, .epoch_end = n_begin };
	static const uint32_t dirty[] = { 1, 100, 10000 };
	struct rig r;
	if (rig_open(&r, size, ns) != 0)
		return -1;
	volatile uint8_t sum = 0;
	if (clean_gaps)
		for (uint32_t k = 0; k < 2 * 10000; k++)
			sum ^= r.base[(size_t)k * PAGE];
	for (unsigned d = clean_gaps ? 2 : 0; d < 3; d++) {
		/* p99 is index rounds*99/100: with 100 rounds or fewer, the
		 * worst one (an upper bound). */
		unsigned rounds = dirty[d] >= 10000 ? 20 : 100;
		uint64_t *p = calloc(rounds, sizeof *p), e;
		for (unsigned i = 0; i < rounds; i++) {
			/* Every other page: each dirty page its own run. */
			for (uint32_t k = 0; k < dirty[d]; k++)
				r.base[(size_t)k * 2 * PAGE] = (uint8_t)i;
			if (pst_snap_take(r.s, &e) != 0 ||
			    pst_snap_wait(r.s, e, 60ull * 1000000000ull) != 0)
				return -1;
			struct pst_snap_stats st;
			pst_snap_stats(r.s, &st);
			p[i] = st.last_pause_ns;
		}
		qsort(p, rounds, sizeof *p, cmp_u64);
		char name[96];
		const char *gaps = clean_gaps ? "_clean_gaps" : "";
		snprintf(name, sizeof name, "pause_p50_%s_%u_pages%s", label,
			 dirty[d], gaps);
		bench_metric(name, p[rounds / 2] / 1e3, "us");
		snprintf(name, sizeof name, "pause_p99_%s_%u_pages%s", label,
			 dirty[d], gaps);
		bench_metric(name, p[rounds * 99 / 100] / 1e3, "us");
		free(p);
	}
	rig_close(&r);
	return 0;
}

static int bench_writer_null(void)
{
	struct pst_sink ns = { .epoch_begin = n_begin, .page = n_page,
			       .page_unused = n_unused, .epoch_end = n_begin };
	struct rig r;
	uint64_t e;
	if (rig_open(&r, 1ull << 30, ns) != 0)
		return -1;
	memset(r.base, 1, BIG);
	uint64_t t0 = plat_monotonic_ns();
	if (pst_snap_take(r.s, &e) != 0 ||
	    pst_snap_wait(r.s, e, 60ull * 1000000000ull) != 0)
		return -1;
	uint64_t t1 = plat_monotonic_ns();
	bench_metric("writer_null_sink", BIG / 1e6 / ((t1 - t0) / 1e9), "MB/s");
	rig_close(&r);
	return 0;
}

/* Redis-style: fork, the child writes the (COW-shared) image and fsyncs. */
static int fork_snapshot(uint8_t *mem, uint64_t *pause_ns, uint64_t *total_ns)
{
	uint64_t t0 = plat_monotonic_ns();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(OUT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(1);
		for (uint64_t off = 0; off < BIG; off += 1 << 20)
			if (write(fd, mem + off, 1 << 20) != 1 << 20)
				_exit(1);
		_exit(fsync(fd) == 0 ? 0 : 1);
	}
	*pause_ns = plat_monotonic_ns() - t0;
	memset(mem, 3, BIG);                /* the parent keeps writing */
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	*total_ns = plat_monotonic_ns() - t0;
	return 0;
}

static int bench_vs_fork(void)
{
	uint8_t *mem = mmap(NULL, BIG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -1;
	memset(mem, 2, BIG);
	uint64_t fork_pause, fork_total;
	int rc = fork_snapshot(mem, &fork_pause, &fork_total);
	munmap(mem, BIG);
	if (rc != 0)
		return -1;

	int fd = open(OUT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	struct pst_sink fs = { .ctx = &fd, .epoch_begin = n_begin,
			       .page = f_page, .page_unused = n_unused,
			       .epoch_end = f_end };
	struct rig r;
	uint64_t e;
	if (rig_open(&r, 1ull << 30, fs) != 0)
		return -1;
	memset(r.base, 2, BIG);
	uint64_t t0 = plat_monotonic_ns();
	if (pst_snap_take(r.s, &e) != 0)
		return -1;
	memset(r.base, 3, BIG);             /* keep writing: COW */
	if (pst_snap_wait(r.s, e, 120ull * 1000000000ull) != 0)
		return -1;
	uint64_t total = plat_monotonic_ns() - t0;
	struct pst_snap_stats st;
	pst_snap_stats(r.s, &st);
	rig_close(&r);
	close(fd);
	unlink(OUT_FILE);
	bench_metric_peer("snapshot_64MiB_pause", st.last_pause_ns / 1e3, "us",
			  "fork()", fork_pause / 1e3);
	bench_metric_peer("snapshot_64MiB_to_file", total / 1e6, "ms",
			  "fork+write+fsync", fork_total / 1e6);
	return 0;
}

/* 100 000 dirty pages in one run (a freshly allocated heap region). As
 * with 10 000 pages, there are fewer than 100 rounds, so "p99" is the worst
 * round: an upper bound of the 99th percentile (so is it at 100 rounds). Scattered runs cannot be
 * measured at this size on the hosted build: 50 000 separate runs would
 * exceed vm.max_map_count (arena.h). */
static int bench_pause_100k(uint64_t size, const char *label)
{
	struct pst_sink ns = { .epoch_begin = n_begin, .page = n_page,
			       .page_unused = n_unused, .epoch_end = n_begin };
	struct rig r;
	if (rig_open(&r, size, ns) != 0)
		return -1;
	enum { ROUNDS = 20, DIRTY = 100000 };
	uint64_t p[ROUNDS], e;
	for (unsigned i = 0; i < ROUNDS; i++) {
		for (uint32_t k = 0; k < DIRTY; k++)
			r.base[(size_t)k * PAGE + 8] = (uint8_t)(i + 1);
		if (pst_snap_take(r.s, &e) != 0 ||
		    pst_snap_wait(r.s, e, 120ull * 1000000000ull) != 0)
			return -1;
		struct pst_snap_stats st;
		pst_snap_stats(r.s, &st);
		p[i] = st.last_pause_ns;
	}
	qsort(p, ROUNDS, sizeof p[0], cmp_u64);
	char name[96];
	snprintf(name, sizeof name, "pause_p50_%s_100000_pages_one_run", label);
	bench_metric(name, p[ROUNDS / 2] / 1e3, "us");
	snprintf(name, sizeof name, "pause_p99_%s_100000_pages_one_run", label);
	bench_metric(name, p[ROUNDS * 99 / 100] / 1e3, "us");
	rig_close(&r);
	return 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* An object heap: 32-byte objects (class pointer, size, two fields) that
 * point at each other inside the arena. */
static void heap_fill(uint8_t *base, uint64_t pages)
{
	uint64_t *w = (uint64_t *)base;
	for (uint64_t i = 0; i < pages * PAGE / 8; i += 4) {
		w[i] = PLAT_ARENA_BASE + 64;            /* class */
		w[i + 1] = 32 | (i & 0xff) << 16;       /* size, hash */
		w[i + 2] = PLAT_ARENA_BASE + (rng() % (pages * PAGE)) / 32 * 32;
		w[i + 3] = (rng() & 0xffff) << 1 | 1;   /* tagged int */
	}
}

/* One epoch of mutation: a few field stores on each of `dirty` pages. */
static void heap_mutate(uint8_t *base, uint64_t pages, uint64_t dirty)
{
	for (uint64_t d = 0; d < dirty; d++) {
		uint64_t *pg = (uint64_t *)(base + (rng() % pages) * PAGE);
		for (int k = 0; k < 3; k++) {
			uint64_t obj = (rng() % (PAGE / 32)) * 4;
			pg[obj + 2 + (rng() & 1)] = k == 0 ?
				PLAT_ARENA_BASE + (rng() % (pages * PAGE)) / 32 * 32 :
				(rng() & 0xffff) << 1 | 1;
		}
	}
}

struct image_rig {
	struct plat_blk *blk;
	struct pst_mut_registry *reg;
	struct pst_image *img;
};

/* A consumer of deltas that drops them: with it the image encodes each
 * epoch's delta, as a replicated node does. */
static void drop_delta(void *ctx, uint64_t epoch, const void *d, size_t len)
{
	(void)ctx, (void)epoch, (void)d, (void)len;
}

/* shipping: deltas are encoded (a replicated node); else only stored. */
static int image_rig_open(struct image_rig *r, const char *path, bool create,
			  uint64_t arena, bool shipping)
{
	if (create)
		unlink(path);
	if (plat_blk_open(path, create ? PLAT_BLK_CREATE : 0, 1ull << 30,
			  &r->blk) != 0 || pst_mut_registry_new(&r->reg) != 0)
		return -1;
	struct pst_image_config cfg = { .blk = r->blk, .arena_size = arena,
					.world = pst_mut_world(r->reg),
					.on_delta = shipping ? drop_delta : NULL };
	char why[256];
	int rc = create ? pst_image_create(&cfg, &r->img, why, sizeof why)
			: pst_image_open(&cfg, &r->img, why, sizeof why);
	if (rc != 0)
		fprintf(stderr, "persist_bench: image: %s\n", why);
	return rc;
}

static void image_rig_close(struct image_rig *r, bool final)
{
	pst_image_close(r->img, final);
	pst_mut_registry_free(r->reg);
	plat_blk_close(r->blk);
}

#define IMG_FILE "build/bench/persist_image.tmp"
#define HEAP_PAGES 16384u                       /* 64 MiB of objects */

/* Commit throughput and delta size through the real store, encoding the
 * deltas as a replicated node does, then reopen. */
static int bench_image(void)
{
	struct image_rig r;
	uint64_t e;
	if (image_rig_open(&r, IMG_FILE, true, 1ull << 30, true) != 0)
		return -1;
	uint8_t *base = pst_image_base(r.img);
	heap_fill(base, HEAP_PAGES);
	uint64_t t0 = plat_monotonic_ns();
	if (pst_image_sync(r.img, 600ull * 1000000000ull, &e) != 0)
		return -1;
	uint64_t t1 = plat_monotonic_ns();
	bench_metric("store_commit_fresh_heap_64MiB",
		     HEAP_PAGES * (double)PAGE / 1e6 / ((t1 - t0) / 1e9), "MB/s");

	struct pst_image_stats before, after;
	pst_image_stats(r.img, &before);
	uint64_t ns = 0;
	for (int round = 0; round < 20; round++) {
		heap_mutate(base, HEAP_PAGES, 1000);
		uint64_t a = plat_monotonic_ns();
		if (pst_image_sync(r.img, 600ull * 1000000000ull, &e) != 0)
			return -1;
		ns += plat_monotonic_ns() - a;
	}
	pst_image_stats(r.img, &after);
	double raw = (double)(after.raw_bytes - before.raw_bytes);
	double delta = (double)(after.delta_bytes - before.delta_bytes);
	bench_metric("store_commit_heap_mutations", raw / 1e6 / (ns / 1e9), "MB/s");
	bench_metric("delta_over_raw_heap_mutations", delta / raw, "ratio");
	image_rig_close(&r, false);

	/* Reopen: from nothing mapped to the first page readable. */
	uint64_t r0 = plat_monotonic_ns();
	if (image_rig_open(&r, IMG_FILE, false, 0, false) != 0)
		return -1;
	volatile uint64_t first = *(volatile uint64_t *)pst_image_base(r.img);
	uint64_t r1 = plat_monotonic_ns();
	(void)first;
	bench_metric("reopen_1GiB_image_to_first_touch", (r1 - r0) / 1e6, "ms");
	image_rig_close(&r, false);
	unlink(IMG_FILE);
	return 0;
}

/* ---- mutator throughput with and without the snapshot clock -------------- */

#define MUT_RUN_NS   (600ull * 1000 * 1000)  /* each measured run        */
#define MUT_HOT      256u                      /* pages stores go to (1 MiB) */

struct mut_run {
	struct pst_mut_registry *reg;
	uint8_t *base;
	uint64_t ops;
	double cpu_s;                /* the mutator thread's own CPU time */
	int failed;
};

/* A heap mutator: each op reads a random object of the 64 MiB heap (a cache
 * miss, as a pointer chase would be) and stores a field of a random object
 * of a 1 MiB hot region (the allocation frontier and hot objects), polling
 * its safepoint every op. At 100 Hz that dirties up to 256 pages an epoch. */
static void mut_main(void *arg)
{
	struct mut_run *m = arg;
	struct pst_mutator *mu;
	if (pst_mut_register(m->reg, &mu) != 0) {
		m->failed = 1;
		return;
	}
	uint64_t *w = (uint64_t *)m->base, ops = 0, acc = 0;
	uint64_t x = 0x2545f4914f6cdd1dull;
	uint64_t end = plat_monotonic_ns() + MUT_RUN_NS;
	for (;;) {
		for (int k = 0; k < 1024; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint64_t obj = (x % (HEAP_PAGES * (PAGE / 32))) * 4;
			acc += w[obj + 3];
			uint64_t hot = ((x >> 32) % (MUT_HOT * (PAGE / 32))) * 4;
			w[hot + 3] = (acc & 0xffff) << 1 | 1;
			pst_mut_poll(mu);
		}
		ops += 1024;
		if (plat_monotonic_ns() >= end)
			break;
	}
	m->ops = ops;
	struct rusage ru;
	getrusage(RUSAGE_THREAD, &ru);
	m->cpu_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	pst_mut_unregister(mu);
}

/* The image every run reopens: a committed 64 MiB object heap. */
static int mutator_image(void)
{
	struct image_rig r;
	if (image_rig_open(&r, IMG_FILE, true, 1ull << 30, false) != 0)
		return -1;
	heap_fill(pst_image_base(r.img), HEAP_PAGES);
	uint64_t e;
	int rc = pst_image_sync(r.img, 600ull * 1000000000ull, &e);
	image_rig_close(&r, false);
	return rc;
}

/* Ops per second of one mutator on the reopened image, snapshots every
 * interval_ns (0: none); also the epochs committed meanwhile. */
static int mutator_run(uint64_t interval_ns, double *ops_s, double *ops_cpu_s,
		       uint64_t *epochs)
{
	struct image_rig r;
	struct pst_image_config cfg;
	if (plat_blk_open(IMG_FILE, 0, 1ull << 30, &r.blk) != 0 ||
	    pst_mut_registry_new(&r.reg) != 0)
		return -1;
	cfg = (struct pst_image_config){ .blk = r.blk,
		.world = pst_mut_world(r.reg), .interval_ns = interval_ns };
	char why[256];
	if (pst_image_open(&cfg, &r.img, why, sizeof why) != 0) {
		fprintf(stderr, "persist_bench: image: %s\n", why);
		return -1;
	}
	uint8_t *base = pst_image_base(r.img);
	volatile uint64_t sum = 0;           /* page the heap in first */
	for (uint64_t p = 0; p < HEAP_PAGES; p++)
		sum += *(volatile uint64_t *)(base + p * PAGE);
	struct pst_image_stats s0, s1;
	pst_image_stats(r.img, &s0);
	struct mut_run m = { .reg = r.reg, .base = base };
	plat_thread *t;
	uint64_t t0 = plat_monotonic_ns();
	if (plat_thread_create(&t, mut_main, &m, "bench-mut") != 0)
		return -1;
	plat_thread_join(t);
	uint64_t t1 = plat_monotonic_ns();
	pst_image_stats(r.img, &s1);
	image_rig_close(&r, false);
	if (m.failed)
		return -1;
	*ops_s = m.ops / ((t1 - t0) / 1e9);
	*ops_cpu_s = m.cpu_s > 0 ? m.ops / m.cpu_s : 0;
	*epochs = s1.snap.epochs_committed - s0.snap.epochs_committed;
	if (getenv("PERSIST_BENCH_DIAG") && *epochs)
		fprintf(stderr, "diag: %llu epochs, per epoch: %.1f write faults "
			"(%.1f around), %.1f cow copies, %.2f cow waits, "
			"%.1f saved, %.1f unchanged, pause max %.0f us\n",
			(unsigned long long)*epochs,
			(double)(s1.arena.write_faults - s0.arena.write_faults) / *epochs,
			(double)(s1.arena.around_pages - s0.arena.around_pages) / *epochs,
			(double)(s1.arena.cow_copies - s0.arena.cow_copies) / *epochs,
			(double)(s1.arena.cow_waits - s0.arena.cow_waits) / *epochs,
			(double)(s1.snap.pages_saved - s0.snap.pages_saved) / *epochs,
			(double)(s1.pages_unchanged - s0.pages_unchanged) / *epochs,
			s1.snap.max_pause_ns / 1e3);
	return 0;
}

/* Runs come in MUT_PAIRS adjacent pairs (none, clocked), alternately in
 * either order so drift cancels; the overheads are the median of the pairs'
 * own overheads, so a burst of load from elsewhere on a shared machine
 * skews one pair, not the result. Wall-clock throughput is what the goal is
 * about, but on a small machine it also counts the mutator being
 * descheduled while the writer (or anything else) runs; ops per second of
 * the mutator's own CPU time isolates what the snapshots cost the mutator
 * itself (faults, copies, parking). */
#define MUT_PAIRS 7

static int bench_mutator(void)
{
	double none[MUT_PAIRS], clocked[MUT_PAIRS], ncpu[MUT_PAIRS],
	       ccpu[MUT_PAIRS], ep[MUT_PAIRS], over[MUT_PAIRS],
	       cover[MUT_PAIRS];
	if (mutator_image() != 0)
		return -1;
	for (int i = 0; i < MUT_PAIRS; i++) {
		uint64_t e0, e1;
		for (int k = 0; k < 2; k++) {
			int rc = (k ^ (i & 1)) == 0
			       ? mutator_run(0, &none[i], &ncpu[i], &e0)
			       : mutator_run(10ull * 1000 * 1000, &clocked[i],
					     &ccpu[i], &e1);
			if (rc != 0)
				return -1;
		}
		ep[i] = (double)e1;
		over[i] = 100.0 * (none[i] - clocked[i]) / none[i];
		cover[i] = 100.0 * (ncpu[i] - ccpu[i]) / ncpu[i];
	}
	unlink(IMG_FILE);
	bench_metric_peer("mutator_ops_snapshots_100Hz",
			  bench_median(clocked, MUT_PAIRS) / 1e6, "Mops/s",
			  "no snapshots", bench_median(none, MUT_PAIRS) / 1e6);
	bench_metric("mutator_overhead_snapshots_100Hz",
		     bench_median(over, MUT_PAIRS), "%");
	bench_metric_peer("mutator_ops_per_cpu_s_snapshots_100Hz",
			  bench_median(ccpu, MUT_PAIRS) / 1e6, "Mops/cpu-s",
			  "no snapshots", bench_median(ncpu, MUT_PAIRS) / 1e6);
	bench_metric("mutator_cpu_overhead_snapshots_100Hz",
		     bench_median(cover, MUT_PAIRS), "%");
	bench_metric("mutator_epochs_committed_per_s",
		     bench_median(ep, MUT_PAIRS) / (MUT_RUN_NS / 1e9), "epochs/s");
	return 0;
}

static bool want(const char *section)
{
	const char *only = getenv("PERSIST_BENCH_ONLY");
	return only == NULL || *only == 0 || strcmp(only, section) == 0;
}

int main(void)
{
	if (plat_hosted_init() != 0) {
		fprintf(stderr, "persist_bench: plat_hosted_init failed\n");
		return 1;
	}
	bench_begin("persist", "build/bench");
	if ((want("pauses") &&
	     (bench_pauses(1ull << 30, "1GiB", false) != 0 ||
	      bench_pauses(64ull << 30, "64GiB", false) != 0 ||
	      bench_pauses(1ull << 30, "1GiB", true) != 0 ||
	      bench_pause_100k(1ull << 30, "1GiB") != 0 ||
	      bench_pause_100k(64ull << 30, "64GiB") != 0)) ||
	    (want("writer") && bench_writer_null() != 0) ||
	    (want("fork") && bench_vs_fork() != 0) ||
	    (want("image") && bench_image() != 0) ||
	    (want("mutator") && bench_mutator() != 0)) {
		fprintf(stderr, "persist_bench: a measurement failed\n");
		return 1;
	}
	return bench_finish() == 0 ? 0 : 1;
}
