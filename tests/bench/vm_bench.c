/* vm_bench.c — benchmark part vm: each program in tests/bench/vm/ runs as
 * Phantom bytecode (assembled in-process) and as Lua 5.4 (`lua5.4 F.lua`),
 * timed in the same run; both must print the same answer. Reports each
 * time with Lua as the peer, and the Phantom/Lua ratio (target <= 1).
 * Also the collector: the time of one full (stop-the-world) collection
 * with 16 and 128 MiB live, and — what a program actually sees with
 * incremental marking — the longest single scheduler slice (1000 polls)
 * of a program that churns garbage with that much live. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_prog.h"
#include "bench_report.h"
#include "capture.h"
#include "../../cluster-tools/asm/asm.h"
#include "../../vm/classfile.h"
#include "../../vm/internal.h"
#include "../../vm/vm.h"

#define REGION (256u << 20)

static const char *progs[] = { "fib", "loops", "calls", "alloc", "strings", "trees" };

/* Phantom: returns milliseconds, or a negative number on failure. */
static double run_phantom(const char *name, void *region, char *out, size_t outcap)
{
	char path[256];
	size_t n;
	uint8_t *cls;
	if (bench_prog_assemble("vm bench", name, path, sizeof path, &cls, &n) < 0)
		return -1;
	struct vm_ctx ctx;
	struct capture c = { 0 };
	memset(&ctx, 0, sizeof ctx);
	vm_set_output(&ctx, capture_out, &c);
	uint32_t id;
	if (vm_format(&ctx, region, REGION) || vm_load(&ctx, cls, n) ||
	    vm_thread_start(&ctx, "Main", "main", &id)) {
		fprintf(stderr, "vm bench: %s: %s\n", name, ctx.err);
		free(cls);
		capture_reset(&c);
		return -1;
	}
	uint64_t t0 = bench_now_ns();
	int rc = vm_run(&ctx, id, 0);
	uint64_t t1 = bench_now_ns();
	free(cls);
	snprintf(out, outcap, "%s", capture_str(&c));
	capture_reset(&c);
	if (rc != VM_RUN_DONE) {
		fprintf(stderr, "vm bench: %s: %s\n", name, ctx.err);
		return -1;
	}
	return (double)(t1 - t0) / 1e6;
}

static double run_lua(const char *name, char *out, size_t outcap)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "lua5.4 tests/bench/vm/%s.lua", name);
	uint64_t t0 = bench_now_ns();
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, outcap - 1, p);
	out[n] = 0;
	int rc = pclose(p);
	uint64_t t1 = bench_now_ns();
	if (rc != 0) {
		fprintf(stderr, "vm bench: %s failed\n", cmd);
		return -1;
	}
	return (double)(t1 - t0) / 1e6;
}

/* One full collection's time in ms with `arrays` 8 KiB arrays live (the
 * best of three), or a negative number on failure. */
static double gc_pause(void *region, int arrays)
{
	char prog[1024], err[512];
	snprintf(prog, sizeof prog,
		 ".class Main\n.static keep\n.method static main 0 0\n.locals 2\n"
		 " aconst_null\n store 0\n iconst 0\n store 1\n"
		 "l:\n iconst 1000\n newarray\n dup\n iconst 0\n load 0\n astore\n store 0\n"
		 " iinc 1 1\n load 1\n iconst %d\n if_icmplt l\n load 0\n putstatic Main.keep\n return\n.end\n",
		 arrays);
	uint8_t *cls;
	size_t n;
	if (pasm_assemble("gc.pasm", prog, strlen(prog), &cls, &n, err, sizeof err)) {
		fprintf(stderr, "vm bench: gc program: %s\n", err);
		return -1;
	}
	struct vm_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	uint32_t id;
	int rc = vm_format(&ctx, region, REGION) || vm_load(&ctx, cls, n) ||
		vm_thread_start(&ctx, "Main", "main", &id) || vm_run(&ctx, id, 0) != VM_RUN_DONE;
	free(cls);
	if (rc) {
		fprintf(stderr, "vm bench: gc program: %s\n", ctx.err);
		return -1;
	}
	double best = 1e30;
	for (int i = 0; i < 3; i++) {
		uint64_t t0 = bench_now_ns();
		uint64_t live = vm_gc(&ctx);
		double ms = (double)(bench_now_ns() - t0) / 1e6;
		if (live < (uint64_t)arrays * 1000)
			return -1;             /* the list must survive */
		best = ms < best ? ms : best;
	}
	return best;
}

/* The longest vm_run slice (ms) while `arrays` 8 KiB arrays stay live and
 * 10M small garbage objects are made (several collection cycles, each
 * marking the whole live set); negative on failure. */
static double gc_slice_max(void *region, int arrays)
{
	char prog[1536], err[512];
	snprintf(prog, sizeof prog,
		 ".class Cell\n.field v\n"
		 ".class Main\n.static keep\n.method static main 0 1\n.locals 2\n"
		 " aconst_null\n store 0\n iconst 0\n store 1\n"
		 "l:\n iconst 1000\n newarray\n dup\n iconst 0\n load 0\n astore\n store 0\n"
		 " iinc 1 1\n load 1\n iconst %d\n if_icmplt l\n load 0\n putstatic Main.keep\n"
		 " iconst 0\n vreturn\n.end\n"
		 ".method static churn 0 1\n.locals 2\n iconst 0\n store 1\n"
		 "g:\n new Cell\n dup\n load 1\n putfield Cell.v\n pop\n"
		 " iinc 1 1\n load 1\n iconst 10000000\n if_icmplt g\n iconst 0\n vreturn\n.end\n",
		 arrays);
	uint8_t *cls;
	size_t n;
	if (pasm_assemble("gcs.pasm", prog, strlen(prog), &cls, &n, err, sizeof err)) {
		fprintf(stderr, "vm bench: gc slice program: %s\n", err);
		return -1;
	}
	struct vm_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	/* The old heap's incremental collector: without a nursery the churn
	 * goes to the heap (with one it dies young and no cycle runs). */
	ctx.young_bytes = VM_YOUNG_NONE;
	uint32_t id;
	int rc = vm_format(&ctx, region, REGION) || vm_load(&ctx, cls, n) ||
		vm_thread_start(&ctx, "Main", "main", &id) || vm_run(&ctx, id, 0) != VM_RUN_DONE ||
		vm_thread_start(&ctx, "Main", "churn", &id);
	free(cls);
	if (rc)
		return -1;
	/* Only the churn is timed: building the live set is the mutator's
	 * own work (and first-touch page faults). */
	double worst = 0;
	uint64_t cycles = vm_gc_cycles(&ctx);
	for (;;) {
		uint64_t t0 = bench_now_ns();
		rc = vm_run(&ctx, id, 1000);
		double ms = (double)(bench_now_ns() - t0) / 1e6;
		worst = ms > worst ? ms : worst;
		if (rc != VM_RUN_STOPPED)
			break;
	}
	if (rc != VM_RUN_DONE) {
		fprintf(stderr, "vm bench: gc slice program: %s\n", ctx.err);
		return -1;
	}
	if (vm_gc_cycles(&ctx) - cycles < 2) {
		fprintf(stderr, "vm bench: gc slice program: only %llu cycles\n",
			(unsigned long long)(vm_gc_cycles(&ctx) - cycles));
		return -1;
	}
	return worst;
}

int main(void)
{
	bench_begin("vm", "build/bench");
	void *region = aligned_alloc(4096, REGION);
	int bad = 0;
	double geo = 0;
	int count = 0;
	for (unsigned i = 0; i < sizeof progs / sizeof progs[0]; i++) {
		char po[256], lo[256], name[64];
		double p = run_phantom(progs[i], region, po, sizeof po);
		double l = run_lua(progs[i], lo, sizeof lo);
		if (p < 0 || l < 0) {
			bad = 1;
			continue;
		}
		if (strcmp(po, lo) != 0) {
			fprintf(stderr, "vm bench: %s: phantom printed %s, lua printed %s", progs[i], po, lo);
			bad = 1;
			continue;
		}
		snprintf(name, sizeof name, "%s_ms", progs[i]);
		bench_metric_peer(name, p, "ms", "lua5.4", l);
		snprintf(name, sizeof name, "%s_ratio", progs[i]);
		bench_metric(name, p / l, "phantom/lua");
		geo += __builtin_log(p / l);
		count++;
	}
	if (count)
		bench_metric("geomean_ratio", __builtin_exp(geo / count), "phantom/lua");
	double p16 = gc_pause(region, 2048), p128 = gc_pause(region, 16384);
	if (p16 < 0 || p128 < 0)
		bad = 1;
	else {
		bench_metric("gc_pause_16mib_live_ms", p16, "ms");
		bench_metric("gc_pause_128mib_live_ms", p128, "ms");
	}
	double s16 = gc_slice_max(region, 2048), s128 = gc_slice_max(region, 16384);
	if (s16 < 0 || s128 < 0)
		bad = 1;
	else {
		bench_metric("gc_max_slice_16mib_live_ms", s16, "ms");
		bench_metric("gc_max_slice_128mib_live_ms", s128, "ms");
	}
	free(region);
	return bench_finish() || bad ? 1 : 0;
}
