/* vm_bench.c — benchmark part vm: each program in tests/bench/vm/ runs as
 * Phantom bytecode (assembled in-process) and as Lua 5.4 (`lua5.4 F.lua`),
 * timed in the same run; both must print the same answer. Reports each
 * time with Lua as the peer, and the Phantom/Lua ratio (target <= 1). */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_report.h"
#include "../../cluster-tools/asm/asm.c"
#include "../../vm/vm.h"

#define REGION (256u << 20)

static const char *progs[] = { "fib", "loops", "calls", "alloc", "strings", "trees" };

struct cap { char buf[256]; size_t n; };
static void cap_out(void *arg, const char *s, size_t n)
{
	struct cap *c = arg;
	if (c->n + n < sizeof c->buf) {
		memcpy(c->buf + c->n, s, n);
		c->n += n;
		c->buf[c->n] = 0;
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, f);
	fclose(f);
	return b;
}

/* Phantom: returns milliseconds, or a negative number on failure. */
static double run_phantom(const char *name, void *region, char *out, size_t outcap)
{
	char path[256], err[512];
	size_t len, n;
	uint8_t *cls;
	snprintf(path, sizeof path, "tests/bench/vm/%s.pasm", name);
	char *text = slurp(path, &len);
	if (!text || pasm_assemble(path, text, len, &cls, &n, err, sizeof err)) {
		fprintf(stderr, "vm bench: %s: %s\n", path, text ? err : "cannot read");
		free(text);
		return -1;
	}
	free(text);
	struct vm_ctx ctx;
	struct cap c = { .n = 0 };
	memset(&ctx, 0, sizeof ctx);
	vm_set_output(&ctx, cap_out, &c);
	uint32_t id;
	if (vm_format(&ctx, region, REGION) || vm_load(&ctx, cls, n) ||
	    vm_thread_start(&ctx, "Main", "main", &id)) {
		fprintf(stderr, "vm bench: %s: %s\n", name, ctx.err);
		free(cls);
		return -1;
	}
	uint64_t t0 = bench_now_ns();
	int rc = vm_run(&ctx, id, 0);
	uint64_t t1 = bench_now_ns();
	free(cls);
	if (rc != VM_RUN_DONE) {
		fprintf(stderr, "vm bench: %s: %s\n", name, ctx.err);
		return -1;
	}
	snprintf(out, outcap, "%s", c.buf);
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
	free(region);
	return bench_finish() || bad ? 1 : 0;
}
