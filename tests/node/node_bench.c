/* node_bench.c — benchmark part "node": what the snapshot period costs and
 * buys on the node runtime. A VM loop prints time.nanos every K iterations;
 * for each period we measure the loop's speed (against a run with no
 * snapshots) and the output-commit latency (VM write to release). This is
 * what phantomd's default --snapshot-ms is chosen from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_report.h"
#include "hosted.h"
#include "plat.h"
#include "cluster-tools/asm/asm.h"
#include "replication/node.h"

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

/* One run: loop iterations per second, and mean/p99 latency in ms. */
static int run(const struct node_class *cls, uint64_t interval_ms, bool hold,
	       double *ips, double *mean, double *p99)
{
	char path[64], why[256];
	snprintf(path, sizeof path, "/tmp/node_bench.%d.img", (int)getpid());
	unlink(path);
	struct plat_blk *blk;
	if (plat_blk_open(path, PLAT_BLK_CREATE, 64u << 20, &blk) < 0)
		return -1;
	struct node_config cfg = {
		.blk = blk, .create = true, .arena_size = 16u << 20,
		.interval_ns = interval_ms * 1000000ull, .output_commit = hold,
		.out_capacity = 1u << 20, .classes = cls, .nclasses = 1,
		.entry_class = "Main", .entry_method = "main", .console = sink,
	};
	struct node *n;
	if (node_boot(&cfg, &n, why, sizeof why) < 0) {
		fprintf(stderr, "node_bench: %s\n", why);
		return -1;
	}
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
	return bench_finish() == 0 ? 0 : 1;
}
