/* vm_samples_test.c — assembles and runs every sample program in tests/vm/:
 * NAME.pasm must print exactly NAME.out (an uncaught exception ends the
 * output with "!uncaught Class: message"); bad_NAME.pasm must be refused by
 * the assembler with exactly the first line of bad_NAME.err. Each sample
 * also runs once with a collection at every allocation, unless its text
 * says @no-gc-stress; and once more with an incremental marking cycle
 * always running in tiny steps (the write barrier's stress test). */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../cluster-tools/asm/asm.c"
#include "../../vm/vm.h"

#define REGION (64u << 20)

struct cap { char *buf; size_t n, cap; };

static void cap_out(void *arg, const char *s, size_t n)
{
	struct cap *c = arg;
	if (c->n + n + 1 > c->cap) {
		c->cap = (c->n + n + 1) * 2;
		c->buf = realloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->n, s, n);
	c->n += n;
	c->buf[c->n] = 0;
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
	b[*len] = 0;
	fclose(f);
	return b;
}

static const char *cur;                /* the sample a TEST runs */

static uint64_t fake_now = 1000000000ull;
static uint64_t fake_clock(void) { return fake_now; }

/* Run one assembled sample; output captured in *c. */
static int run_sample(const uint8_t *cls, size_t n, int stress, struct cap *c, char *why, size_t wn)
{
	void *region = aligned_alloc(4096, REGION);
	struct vm_ctx ctx = { 0 };
	vm_set_output(&ctx, cap_out, c);
	ctx.clock = fake_clock;
	int rc = vm_format(&ctx, region, REGION);
	if (!rc)
		rc = vm_load(&ctx, cls, n);
	uint32_t id = 0;
	if (!rc)
		rc = vm_thread_start(&ctx, "Main", "main", &id);
	if (!rc) {
		vm_gc_stress(&ctx, stress == 1);
		vm_gc_incremental_stress(&ctx, stress == 2);
		rc = vm_run(&ctx, id, 0);
		/* Main waits for other threads: schedule them all, jumping the
		 * fake clock to each wake-up, until main ends (or nothing can). */
		for (int i = 0; rc == VM_RUN_BLOCKED || rc == VM_RUN_STOPPED; i++) {
			vm_run_all(&ctx, 50);
			uint64_t next = vm_next_wakeup_ns(&ctx);
			if (next > fake_now && next != UINT64_MAX)
				fake_now = next;
			rc = vm_run(&ctx, id, 1);
			if (i > 1000000 || (rc == VM_RUN_BLOCKED && next == UINT64_MAX)) {
				snprintf(ctx.err, sizeof ctx.err, "main thread deadlocked");
				rc = -1;
			}
		}
		if (rc == VM_RUN_FAILED) {
			cap_out(c, "!", 1);
			cap_out(c, ctx.err, strlen(ctx.err));
			cap_out(c, "\n", 1);
			rc = 0;
		} else if (rc == VM_RUN_DONE) {
			rc = 0;
		}
	}
	if (rc)
		snprintf(why, wn, "%s", ctx.err);
	vm_detach(&ctx);
	free(region);
	return rc;
}

TEST(sample)
{
	char path[512], want_path[512], err[512];
	size_t len, wlen;
	snprintf(path, sizeof path, "tests/vm/%s", cur);
	char *text = slurp(path, &len);
	CHECKF(text, "cannot read %s", path);
	bool bad = strncmp(cur, "bad_", 4) == 0;
	snprintf(want_path, sizeof want_path, "tests/vm/%.*s.%s", (int)strlen(cur) - 5, cur, bad ? "err" : "out");
	char *want = slurp(want_path, &wlen);
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
	for (int stress = 0; stress < (no_stress ? 1 : 3); stress++) {
		struct cap c = { 0 };
		char why[300] = "";
		rc = run_sample(cls, n, stress, &c, why, sizeof why);
		CHECKF(rc == 0, "%s: %s", cur, why);
		CHECKF(c.buf && strcmp(c.buf, want) == 0, "%s%s: output differs:\n--- got\n%s--- want\n%s",
		       cur, stress == 1 ? " (gc stress)" : stress == 2 ? " (incremental gc stress)" : "", c.buf ? c.buf : "", want);
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
