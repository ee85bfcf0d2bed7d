/* vm_samples_test.c — assembles and runs every sample program in tests/vm/:
 * NAME.pasm must print exactly NAME.out (an uncaught exception ends the
 * output with "!uncaught Class: message"); bad_NAME.pasm must be refused by
 * the assembler with exactly the first line of bad_NAME.err. Each sample
 * also runs once with a collection at every allocation, unless its text
 * says @no-gc-stress; once more with an incremental marking cycle always
 * running in tiny steps (the write barrier's stress test); and once more
 * restored mid-run: every few safepoints the region is copied aside, unmapped,
 * mapped again at the same address over garbage, copied back and attached by
 * a fresh context — heap, threads and pc survive the round trip. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <dirent.h>
#include <sys/mman.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "check.h"
#include "../../cluster-tools/asm/asm.h"
#include "../../vm/classfile.h"
#include "../../vm/internal.h"
#include "../../vm/vm.h"

#define REGION (64u << 20)

static const char *cur;                /* the sample a TEST runs */

static uint64_t fake_now = 1000000000ull;
static uint64_t fake_clock(void) { return fake_now; }

enum { RUN_PLAIN, RUN_GC_STRESS, RUN_INCR_STRESS, RUN_RESTORED, RUN_MODES };
#define RESTORE_ADDR ((void *)0x320000000000ull)
#define RESTORE_POLLS 7

static void *map_fixed(void)
{
	void *p = mmap(RESTORE_ADDR, REGION, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	return p == RESTORE_ADDR ? p : NULL;
}

/* The snapshot/restore round trip: only the region's bytes survive — and
 * the text of the last error, which the VM keeps C-side (ctx->err) and which
 * the harness prints for a thread that failed before the restore. */
static int restore(struct vm_ctx *ctx, void *region, uint8_t *saved, struct capture *c)
{
	char err[sizeof ctx->err];
	memcpy(err, ctx->err, sizeof err);
	memcpy(saved, region, REGION);
	vm_detach(ctx);
	if (munmap(region, REGION) != 0 || map_fixed() != region)
		return -1;
	memset(region, 0x5a, REGION);
	memcpy(region, saved, REGION);
	memset(ctx, 0xa5, sizeof *ctx);
	memset(ctx, 0, sizeof *ctx);
	vm_set_output(ctx, capture_out, c);
	ctx->clock = fake_clock;
	int rc = vm_attach(ctx, region, REGION);
	if (rc == 0)
		memcpy(ctx->err, err, sizeof err);
	return rc;
}

/* Run one assembled sample; output captured in *c. */
static int run_sample(const uint8_t *cls, size_t n, int stress, struct capture *c, char *why, size_t wn)
{
	bool restored = stress == RUN_RESTORED;
	void *region = restored ? map_fixed() : aligned_alloc(4096, REGION);
	uint8_t *saved = restored ? malloc(REGION) : NULL;
	if (region == NULL || (restored && saved == NULL)) {
		snprintf(why, wn, "cannot map the region");
		return -1;
	}
	struct vm_ctx ctx = { 0 };
	vm_set_output(&ctx, capture_out, c);
	ctx.clock = fake_clock;
	int rc = vm_format(&ctx, region, REGION);
	if (!rc)
		rc = vm_load(&ctx, cls, n);
	uint32_t id = 0;
	if (!rc)
		rc = vm_thread_start(&ctx, "Main", "main", &id);
	if (!rc) {
		vm_gc_stress(&ctx, stress == RUN_GC_STRESS);
		vm_gc_incremental_stress(&ctx, stress == RUN_INCR_STRESS);
		rc = vm_run(&ctx, id, restored ? RESTORE_POLLS : 0);
		/* Main waits for other threads: schedule them all, jumping the
		 * fake clock to each wake-up, until main ends (or nothing can). */
		for (int i = 0; rc == VM_RUN_BLOCKED || rc == VM_RUN_STOPPED; i++) {
			vm_run_all(&ctx, 50);
			uint64_t next = vm_next_wakeup_ns(&ctx);
			if (next > fake_now && next != UINT64_MAX)
				fake_now = next;
			if (restored && restore(&ctx, region, saved, c) != 0) {
				char e[sizeof ctx.err];
				snprintf(e, sizeof e, "restore failed: %s", ctx.err);
				snprintf(ctx.err, sizeof ctx.err, "%s", e);
				rc = -1;
				break;
			}
			rc = vm_run(&ctx, id, restored ? RESTORE_POLLS : 1);
			if (i > 1000000 || (rc == VM_RUN_BLOCKED && next == UINT64_MAX)) {
				snprintf(ctx.err, sizeof ctx.err, "main thread deadlocked");
				rc = -1;
			}
		}
		if (rc == VM_RUN_FAILED) {
			capture_out(c, "!", 1);
			capture_out(c, ctx.err, strlen(ctx.err));
			capture_out(c, "\n", 1);
			rc = 0;
		} else if (rc == VM_RUN_DONE) {
			rc = 0;
		}
	}
	if (rc)
		snprintf(why, wn, "%s", ctx.err);
	vm_detach(&ctx);
	if (restored) {
		munmap(region, REGION);
		free(saved);
	} else {
		free(region);
	}
	return rc;
}

TEST(sample)
{
	char path[512], want_path[512], err[512];
	size_t len, wlen;
	snprintf(path, sizeof path, "tests/vm/%s", cur);
	char *text = read_whole_file(path, &len);
	CHECKF(text, "cannot read %s", path);
	bool bad = strncmp(cur, "bad_", 4) == 0;
	snprintf(want_path, sizeof want_path, "tests/vm/%.*s.%s", (int)strlen(cur) - 5, cur, bad ? "err" : "out");
	char *want = read_whole_file(want_path, &wlen);
	uint8_t *cls = NULL;
	size_t n = 0;
	int rc = pasm_assemble(path, text, len, &cls, &n, err, sizeof err);
	bool no_stress = strstr(text, "@no-gc-stress") != NULL;
	free(text);
	CHECKF(want, "missing %s", want_path);
	if (bad) {
		char *nl = strchr(want, '\n');
		if (nl)
			*nl = 0;
		CHECKF(rc != 0, "%s assembled but should not", path);
		CHECKF(strcmp(err, want) == 0, "error \"%s\", want \"%s\"", err, want);
		free(want);
		return;
	}
	CHECKF(rc == 0, "%s", err);
	for (int stress = 0; stress < RUN_MODES; stress++) {
		if (no_stress && (stress == RUN_GC_STRESS || stress == RUN_INCR_STRESS))
			continue;
		struct capture c = { 0 };
		char why[300] = "";
		rc = run_sample(cls, n, stress, &c, why, sizeof why);
		CHECKF(rc == 0, "%s: %s", cur, why);
		CHECKF(c.buf && strcmp(c.buf, want) == 0, "%s%s: output differs:\n--- got\n%s--- want\n%s",
		       cur, stress == RUN_GC_STRESS ? " (gc stress)" : stress == RUN_INCR_STRESS ?
		       " (incremental gc stress)" : stress == RUN_RESTORED ? " (restored mid-run)" : "",
		       c.buf ? c.buf : "", want);
		free(c.buf);
	}
	free(cls);
	free(want);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	check_begin("vm_samples_test");
	DIR *d = opendir("tests/vm");
	if (!d) {
		printf("FAIL: vm_samples_test/opendir: tests/vm not found (run from the repo root)\n");
		return 1;
	}
	char *names[256];
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < 256;) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".pasm"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof *names, by_name);
	for (int i = 0; i < n; i++) {
		cur = names[i];
		check_prog_ = "vm_samples_test";
		check_failed_now_ = 0;
		check_why_[0] = 0;
		sample();
		if (check_failed_now_) {
			check_failures_++;
			printf("FAIL: vm_samples_test/%s: %s\n", cur, check_why_);
		} else {
			printf("PASS: vm_samples_test/%s\n", cur);
		}
		fflush(stdout);
		free(names[i]);
	}
	if (n == 0) {
		printf("FAIL: vm_samples_test/none: no samples in tests/vm\n");
		return 1;
	}
	return check_done();
}
