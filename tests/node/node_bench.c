/* node_bench.c — benchmark part "node": what the snapshot period costs and
 * buys on the node runtime. A VM loop prints time.nanos every K iterations;
 * for each period we measure the loop's speed (against a run with no
 * snapshots) and the output-commit latency (VM write to release). This is
 * what phantomd's default --snapshot-ms is chosen from. Then the real
 * mutator under snapshots at 100 Hz: programs of the vm part (allocation
 * heavy, so they dirty pages all the time) run to completion as the node's
 * app, against the same runs with no snapshot. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_prog.h"
#include "bench_report.h"
#include "capture.h"
#include "hosted.h"
#include "plat.h"
#include "cluster-tools/asm/asm.h"
#include "persist/image.h"
#include "replication/node.h"
#include "vm/vm.h"

#define K 20000
#define RUN_NS 800000000ull
#define MAXLAT 100000

static const char APP[] =
	".class Main\n.method static main 0 0\n.locals 1\n"
	"    iconst 0\n    store 0\n"
	"top:\n    iinc 0 1\n    load 0\n    iconst 20000\n    irem\n    ifne top\n"
	"    invokenative time.nanos\n    print\n    goto top\n.end\n";

static char line[64];
static size_t linelen;
static uint64_t lines, nlat;
static double lat[MAXLAT];

static void sink(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	uint64_t now = plat_monotonic_ns();
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\n') {
			if (linelen < sizeof line - 1)
				line[linelen++] = s[i];
			continue;
		}
		line[linelen] = 0;
		linelen = 0;
		lines++;
		uint64_t t = strtoull(line, NULL, 10);
		if (nlat < MAXLAT && t && t <= now)
			lat[nlat++] = (double)(now - t) / 1e6;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct stopper { struct node *n; };
static void stop_later(void *arg)
{
	plat_sleep_ns(RUN_NS);
	node_stop(((struct stopper *)arg)->n);
}

/* A new image file of `size` bytes, its path in path. */
static struct plat_blk *fresh_device(char *path, size_t cap, uint64_t size)
{
	snprintf(path, cap, "/tmp/node_bench.%d.img", (int)getpid());
	unlink(path);
	struct plat_blk *blk;
	return plat_blk_open(path, PLAT_BLK_CREATE, size, &blk) < 0 ? NULL : blk;
}

/* Boots a node that creates its image on a fresh device of dev_size
 * bytes (cfg->blk is set to it); NULL, with the reason printed, if not. */
static struct node *boot_fresh(struct node_config *cfg, uint64_t dev_size,
			       char *path, size_t cap)
{
	char why[256];
	cfg->blk = fresh_device(path, cap, dev_size);
	cfg->create = true;
	struct node *n;
	if (cfg->blk != NULL && node_boot(cfg, &n, why, sizeof why) == 0)
		return n;
	fprintf(stderr, "node_bench: %s\n", cfg->blk ? why : "cannot create the image file");
	if (cfg->blk != NULL)
		plat_blk_close(cfg->blk);
	unlink(path);
	return NULL;
}

/* One run: loop iterations per second, and mean/p99 latency in ms. */
static int run(const struct node_class *cls, uint64_t interval_ms, bool hold,
	       double *ips, double *mean, double *p99)
{
	char path[64];
	struct node_config cfg = {
		.arena_size = 16u << 20,
		.interval_ns = interval_ms * 1000000ull, .output_commit = hold,
		.out_capacity = 1u << 20, .classes = cls, .nclasses = 1,
		.entry_class = "Main", .entry_method = "main", .console = sink,
	};
	struct node *n = boot_fresh(&cfg, 64u << 20, path, sizeof path);
	if (n == NULL)
		return -1;
	struct plat_blk *blk = cfg.blk;
	lines = nlat = linelen = 0;
	struct stopper s = { n };
	plat_thread *t;
	plat_thread_create(&t, stop_later, &s, "stopper");
	uint64_t t0 = plat_monotonic_ns();
	struct node_run_result r;
	node_run(n, &r);
	uint64_t el = plat_monotonic_ns() - t0;
	plat_thread_join(t);
	uint64_t before = lines;         /* released during the run */
	node_shutdown(n, true);
	plat_blk_close(blk);
	unlink(path);
	*ips = (double)lines * K / ((double)el / 1e9);
	qsort(lat, nlat, sizeof lat[0], cmp);
	double sum = 0;
	for (uint64_t i = 0; i < nlat; i++)
		sum += lat[i];
	*mean = nlat ? sum / (double)nlat : 0;
	*p99 = nlat ? lat[nlat * 99 / 100] : 0;
	(void)before;
	return 0;
}

/* ---- VM programs to completion, snapshots at 100 Hz vs none ------------- */

#define PROG_ROUNDS 5
static struct capture prog_out;

static void prog_sink(void *ctx, const char *s, size_t len)
{
	capture_out(ctx, s, len);
}

/* Milliseconds node_run takes to finish the program, what it printed
 * (released by the final snapshot at the latest), the pages each epoch
 * stored on average and the snapshot rate achieved: an epoch's instant
 * waits for the last one's commit, so a program that writes more than the
 * writer saves in a period gets fewer, longer epochs than it asked for. */
static double run_prog(const struct node_class *cls, uint64_t interval_ms,
		       char *out, size_t outcap, double *pages_per_epoch,
		       double *epochs_per_s)
{
	char path[64];
	struct node_config cfg = {
		.arena_size = 256u << 20,
		.interval_ns = interval_ms * 1000000ull, .output_commit = true,
		.classes = cls, .nclasses = 1, .entry_class = "Main",
		.entry_method = "main", .console = prog_sink,
		.console_ctx = &prog_out,
		/* NODE_BENCH_YOUNG=none: no nursery (for comparison) */
		.young_bytes = getenv("NODE_BENCH_YOUNG") &&
			strcmp(getenv("NODE_BENCH_YOUNG"), "none") == 0 ? VM_YOUNG_NONE : 0,
	};
	capture_reset(&prog_out);
	struct node *n = boot_fresh(&cfg, 512u << 20, path, sizeof path);
	if (n == NULL)
		return -1;
	struct plat_blk *blk = cfg.blk;
	struct pst_image_stats s0, s1;
	pst_image_stats(node_image(n), &s0);
	struct rusage ru0, ru1;
	getrusage(RUSAGE_THREAD, &ru0);
	uint64_t t0 = plat_monotonic_ns();
	struct node_run_result r;
	int rc = node_run(n, &r);
	uint64_t el = plat_monotonic_ns() - t0;
	getrusage(RUSAGE_THREAD, &ru1);
	pst_image_stats(node_image(n), &s1);
	uint64_t ep = s1.snap.epochs_committed - s0.snap.epochs_committed;
	*epochs_per_s = (double)ep / ((double)el / 1e9);
	if (ep == 0)
		ep = 1;              /* no snapshot: totals */
	/* Pages stored and shipped: the sink drops listed pages found unchanged. */
	*pages_per_epoch = (double)(s1.snap.pages_saved - s0.snap.pages_saved -
				    (s1.pages_unchanged - s0.pages_unchanged)) / ep;
	if (getenv("NODE_BENCH_DIAG"))
		fprintf(stderr, "diag %s %llu ms: %llu epochs, per epoch: %.1f "
			"write faults (%.1f around), %.1f read faults, %.1f cow "
			"copies, %.1f saved, %.1f unused, %.1f unchanged; "
			"runner %.0f ms user %.0f ms sys of %.0f ms; max pause "
			"%.0f us, %llu cow waits %.1f ms, %.1f page-ins, "
			"%.1f prepared-page faults\n",
			cls->name, (unsigned long long)interval_ms,
			(unsigned long long)ep,
			(double)(s1.arena.write_faults - s0.arena.write_faults) / ep,
			(double)(s1.arena.around_pages - s0.arena.around_pages) / ep,
			(double)(s1.arena.read_faults - s0.arena.read_faults) / ep,
			(double)(s1.arena.cow_copies - s0.arena.cow_copies) / ep,
			(double)(s1.snap.pages_saved - s0.snap.pages_saved) / ep,
			(double)(s1.snap.pages_unused - s0.snap.pages_unused) / ep,
			(double)(s1.pages_unchanged - s0.pages_unchanged) / ep,
			(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e3 +
			(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e3,
			(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e3 +
			(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e3,
			el / 1e6, s1.snap.max_pause_ns / 1e3,
			(unsigned long long)(s1.arena.cow_waits - s0.arena.cow_waits),
			(s1.arena.cow_wait_ns - s0.arena.cow_wait_ns) / 1e6,
			(double)(s1.arena.page_ins - s0.arena.page_ins) / ep,
			(double)(s1.arena.prep_faults - s0.arena.prep_faults) / ep);
	if (node_shutdown(n, true) < 0 || rc < 0 || !r.finished || r.failed) {
		fprintf(stderr, "node_bench: %s did not finish: %s\n", cls->name,
			r.err);
		rc = -1;
	}
	plat_blk_close(blk);
	unlink(path);
	snprintf(out, outcap, "%s", capture_str(&prog_out));
	capture_reset(&prog_out);
	return rc < 0 ? -1 : (double)el / 1e6;
}

/* Rounds of (none, 100 Hz) in alternating order; the overhead is the median
 * of the rounds' own. Both runs must print the same answer. */
static int bench_prog(const char *prog)
{
	char path[128], a[256], b[256];
	size_t n;
	uint8_t *bytes;
	if (bench_prog_assemble("node_bench", prog, path, sizeof path, &bytes, &n) < 0)
		return -1;
	struct node_class cls = { path, bytes, n };
	double none[PROG_ROUNDS], hz[PROG_ROUNDS], over[PROG_ROUNDS];
	double pages[PROG_ROUNDS], rate[PROG_ROUNDS], pp, eps;
	for (int i = 0; i < PROG_ROUNDS; i++) {
		for (int k = 0; k < 2; k++) {
			bool clocked = (k ^ (i & 1)) != 0;
			double ms = run_prog(&cls, clocked ? 10 : 100000,
					     clocked ? b : a, sizeof a, &pp, &eps);
			if (ms < 0) {
				free(bytes);
				return -1;
			}
			(clocked ? hz : none)[i] = ms;
			if (clocked) {
				pages[i] = pp;
				rate[i] = eps;
			}
		}
		if (a[0] == 0 || strcmp(a, b) != 0) {
			fprintf(stderr, "node_bench: %s printed \"%s\" without "
				"snapshots, \"%s\" with\n", prog, a, b);
			free(bytes);
			return -1;
		}
		over[i] = 100.0 * (hz[i] - none[i]) / none[i];
	}
	free(bytes);
	char name[96];
	snprintf(name, sizeof name, "vm_%s_snapshots_100Hz", prog);
	bench_metric_peer(name, bench_median(hz, PROG_ROUNDS), "ms",
			  "no snapshots", bench_median(none, PROG_ROUNDS));
	snprintf(name, sizeof name, "vm_%s_overhead_snapshots_100Hz", prog);
	bench_metric(name, bench_median(over, PROG_ROUNDS), "%");
	snprintf(name, sizeof name, "vm_%s_pages_per_epoch_100Hz", prog);
	bench_metric(name, bench_median(pages, PROG_ROUNDS), "pages");
	snprintf(name, sizeof name, "vm_%s_epochs_committed_per_s_100Hz", prog);
	bench_metric(name, bench_median(rate, PROG_ROUNDS), "epochs/s");
	return 0;
}

int main(void)
{
	if (plat_hosted_init() != 0)
		return 1;
	uint8_t *bytes;
	size_t len;
	char err[200];
	if (pasm_assemble("bench.pasm", APP, strlen(APP), &bytes, &len, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct node_class cls = { "bench.pcl", bytes, len };
	bench_begin("node", "build/bench");
	/* NODE_BENCH_ONLY=progs: only the VM programs; =trees (a program's
	 * name): only that one (for tuning). */
	const char *only = getenv("NODE_BENCH_ONLY");
	if (only == NULL) {
		double base, m, p;
		/* No snapshot during the run (a 100 s period), output written at once. */
		if (run(&cls, 100000, false, &base, &m, &p) < 0)
			return 1;
		static const uint64_t periods[] = { 10, 25, 50, 100 };
		for (unsigned i = 0; i < sizeof periods / sizeof periods[0]; i++) {
			double ips;
			char name[96];
			if (run(&cls, periods[i], true, &ips, &m, &p) < 0)
				return 1;
			snprintf(name, sizeof name, "vm_loop_snapshot_%llums",
				 (unsigned long long)periods[i]);
			bench_metric_peer(name, ips / 1e6, "Miter/s", "no snapshots", base / 1e6);
			snprintf(name, sizeof name, "output_latency_mean_%llums",
				 (unsigned long long)periods[i]);
			bench_metric(name, m, "ms");
			snprintf(name, sizeof name, "output_latency_p99_%llums",
				 (unsigned long long)periods[i]);
			bench_metric(name, p, "ms");
		}
	}
	static const char *const progs[] = { "alloc", "trees", "calls", "live" };
	bool known = only == NULL || strcmp(only, "progs") == 0;
	for (unsigned i = 0; i < sizeof progs / sizeof progs[0]; i++)
		known |= only != NULL && strcmp(only, progs[i]) == 0;
	if (!known) {
		fprintf(stderr, "node_bench: NODE_BENCH_ONLY=%s: not progs nor a "
			"program (alloc, trees, calls, live)\n", only);
		return 2;
	}
	for (unsigned i = 0; i < sizeof progs / sizeof progs[0]; i++)
		if ((only == NULL || strcmp(only, "progs") == 0 ||
		     strcmp(only, progs[i]) == 0) && bench_prog(progs[i]) < 0)
			return 1;
	return bench_finish() == 0 ? 0 : 1;
}
