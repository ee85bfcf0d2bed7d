/* vm_young_stress_test.c — randomized stress test of the nursery
 * (vm/young.c). Each seed's program (tests/vm/pasm_gen.h) runs once with
 * no nursery, the reference, then under every configuration below: small
 * nurseries (many minor collections, remembered-set overflow and heap
 * walks), a marking cycle always running or a full collection at every
 * old allocation, different scheduler slices, and the region "crashed
 * and restored" (vt_restore) every few times the host has control;
 * young_verify is on in all of them. Every run must print exactly the
 * reference's output, and the same threads must fail (a program may end
 * a worker with an uncaught exception). Each run is a child process, so
 * a VM panic, a hang or a wrong output is reported with the seed and
 * configuration that reproduce it.
 *
 *   vm_young_stress_test [N]        N seeds from 1 (default PG_SEEDS; make check-long: 2000)
 *   YOUNG_STRESS_FIRST=S            ... from S
 *   YOUNG_STRESS_SEED=S             seed S only
 *   YOUNG_STRESS_CONFIG=NAME        that configuration only (and the reference)
 *   YOUNG_STRESS_DUMP=FILE          write seed S's program to FILE (phantom-asm can read it)
 *   YOUNG_STRESS_SHOW=1             print each reference output
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../vm/vmtest.h"
#include "../vm/pasm_gen.h"

#define PG_SEEDS 40            /* the default run: 12-14 s on 2 shared cores */
#define PG_MAX_FAILS 5         /* seeds reported before giving up */
#define PG_RUN_SECONDS 30      /* one run's limit (a hang is a failure) */

enum { GC_NORMAL, GC_INCR, GC_FULL };

struct cfg {
	const char *name;
	uint64_t young;            /* nursery bytes: VM_YOUNG_NONE, 0 = default (512 KiB) */
	uint64_t slice;            /* polls per thread turn */
	uint64_t passes;           /* 0: vm_run_all to the end; else vm_run_passes */
	int gc;                    /* collector stress */
	unsigned restore;          /* crash and restore at every n-th return to the host */
};

static const struct cfg cfgs[] = {
	{ "reference", VM_YOUNG_NONE, 1000, 0, GC_NORMAL, 0 },
	{ "default", 0, 1000, 0, GC_NORMAL, 0 },
	{ "64k-s97", 64 << 10, 97, 0, GC_NORMAL, 0 },
	{ "8k-s10007", 8 << 10, 10007, 0, GC_NORMAL, 0 },
	{ "16k-incr-s13", 16 << 10, 13, 0, GC_INCR, 0 },
	{ "64k-full-s251", 64 << 10, 251, 0, GC_FULL, 0 },
	{ "default-restore-s503", 0, 503, 20, GC_NORMAL, 8 },
	{ "16k-incr-restore-s31", 16 << 10, 31, 100, GC_INCR, 8 },
};
#define NCFG (sizeof cfgs / sizeof *cfgs)

struct stats { uint64_t runs, minor, walks, cycles, restores, ns; };

/* Shared with the child that does one run. */
struct shared {
	char out[sizeof vt_out.buf];
	char fails[1024];          /* why threads failed (a program may mean it) */
	char why[512];
	struct stats st;
};
static struct shared *sh;
static struct stats totals[NCFG];

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* In the child: run prog under c; output and counters into sh. 0 or -1 (sh->why). */
static int run_cfg(const char *prog, const struct cfg *c)
{
	struct vm_ctx ctx;
	uint32_t id;
	char err[512];
	vt_young_bytes = c->young;
	vt_young_verify = true;
	if (vt_boot(&ctx, prog, true, &id, err, sizeof err)) {
		snprintf(sh->why, sizeof sh->why, "boot: %s", err);
		return -1;
	}
	vm_gc_incremental_stress(&ctx, c->gc == GC_INCR);
	vm_gc_stress(&ctx, c->gc == GC_FULL);
	for (unsigned rounds = 0;; rounds++) {
		if (rounds > 1000000) {
			snprintf(sh->why, sizeof sh->why, "still running after %u scheduler calls", rounds);
			return -1;
		}
		int failed = c->passes ? vm_run_passes(&ctx, c->slice, c->passes) : vm_run_all(&ctx, c->slice);
		for (; failed > 0; failed--) {
			size_t n = strlen(sh->fails);
			snprintf(sh->fails + n, sizeof sh->fails - n, "%s; ", ctx.err);
		}
		if (vm_all_done(&ctx))
			break;
		if (c->restore && rounds % c->restore == c->restore - 1) {
			if (vt_restore(&ctx)) {
				snprintf(sh->why, sizeof sh->why, "restore: %s", ctx.err);
				return -1;
			}
			sh->st.restores++;
		}
		uint64_t next = vm_next_wakeup_ns(&ctx);
		if (next == UINT64_MAX) {
			snprintf(sh->why, sizeof sh->why, "deadlock: no thread can run");
			return -1;
		}
		if (next > vt_now)
			vt_now = next;
	}
	if (vt_out.n + 1 >= sizeof vt_out.buf) {
		snprintf(sh->why, sizeof sh->why, "output too long");
		return -1;
	}
	memcpy(sh->out, vt_out.buf, vt_out.n + 1);
	sh->st.minor = vm_young_collections(&ctx);
	sh->st.walks = ctx.root->young_walks;
	sh->st.cycles = vm_gc_cycles(&ctx);
	return 0;
}

/* The first line where got and want differ, for the report. */
static void first_diff(const char *got, const char *want, char *buf, size_t n)
{
	size_t i = 0, start = 0;
	int line = 1;
	for (; got[i] && got[i] == want[i]; i++)
		if (got[i] == '\n') {
			line++;
			start = i + 1;
		}
	got += start;
	want += start;
	snprintf(buf, n, "output differs at line %d: got <<%.*s>> want <<%.*s>>", line,
		 (int)strcspn(got, "\n"), got, (int)strcspn(want, "\n"), want);
}

/* Run prog under cfgs[k] in a child. 0, or -1 with why (a wrong output
 * or other threads failing than in want_fails, when want is given; an
 * error, a panic with its message, a hang). */
static int run_child(const char *prog, unsigned k, const char *want, const char *want_fails,
		     char *why, size_t wn)
{
	int fd[2];
	if (pipe(fd))
		abort();
	memset(sh, 0, sizeof *sh);
	fflush(stdout);
	uint64_t t0 = mono_ns();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], 2);
		alarm(PG_RUN_SECONDS);
		_exit(run_cfg(prog, &cfgs[k]) ? 1 : 0);
	}
	close(fd[1]);
	char err[512];
	size_t en = 0;
	for (ssize_t r; (r = read(fd[0], err + en, sizeof err - 1 - en)) != 0;) {
		if (r < 0)
			break;
		en += (size_t)r;
		if (en == sizeof err - 1) {     /* keep the start, drain the rest */
			char junk[256];
			while (read(fd[0], junk, sizeof junk) > 0)
				;
			break;
		}
	}
	err[en] = 0;
	close(fd[0]);
	int status;
	waitpid(pid, &status, 0);
	sh->st.ns = mono_ns() - t0;
	sh->st.runs = 1;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		snprintf(why, wn, "%s (%.*s)", sig == SIGALRM ? "hung" : strsignal(sig),
			 en ? (int)strcspn(err, "\n") : 10, en ? err : "no message");
		return -1;
	}
	if (WEXITSTATUS(status)) {
		snprintf(why, wn, "%s", sh->why);
		return -1;
	}
	if (want && strcmp(sh->fails, want_fails) != 0) {
		snprintf(why, wn, "threads failed: <<%s>>, in the reference: <<%s>>", sh->fails, want_fails);
		return -1;
	}
	if (want && strcmp(sh->out, want) != 0) {
		first_diff(sh->out, want, why, wn);
		return -1;
	}
	return 0;
}

/* Counters of runs that passed; the time of all. */
static void add(struct stats *t, const struct stats *s, bool passed)
{
	t->ns += s->ns;
	if (!passed)
		return;
	t->runs += s->runs;
	t->minor += s->minor;
	t->walks += s->walks;
	t->cycles += s->cycles;
	t->restores += s->restores;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static uint64_t first_seed = 1, nseeds = PG_SEEDS, start_ns;
static const char *only_cfg;

/* One seed: the reference, then every configuration. Returns the
 * failures it reported. */
static int one_seed(uint64_t seed, char *first, size_t fn)
{
	size_t len;
	char *prog = pg_program(seed, &len), why[1024];
	static char want[sizeof vt_out.buf], want_fails[sizeof sh->fails];
	int fails = 0;
	for (unsigned k = 0; k < NCFG; k++) {
		if (k && only_cfg && strcmp(only_cfg, cfgs[k].name) != 0)
			continue;
		int rc = run_child(prog, k, k ? want : NULL, want_fails, why, sizeof why);
		add(&totals[k], &sh->st, rc == 0);
		if (rc == 0 && k == 0) {
			memcpy(want, sh->out, sizeof want);
			memcpy(want_fails, sh->fails, sizeof want_fails);
			if (getenv("YOUNG_STRESS_SHOW"))
				printf("seed %llu prints:\n%s", (unsigned long long)seed, want);
			if (!strstr(want, "\ndir ")) {
				rc = -1;
				snprintf(why, sizeof why, "the reference did not finish: <<%s>>", want);
			}
		}
		if (rc == 0)
			continue;
		printf("seed %llu, config %s (at %.1f s): %s\n    rerun: YOUNG_STRESS_SEED=%llu "
		       "YOUNG_STRESS_CONFIG=%s build/tests/unit/vm_young_stress_test\n", (unsigned long long)seed,
		       cfgs[k].name, (mono_ns() - start_ns) / 1e9, why, (unsigned long long)seed, cfgs[k].name);
		if (!fails++ && !*first)
			snprintf(first, fn, "seed %llu, config %s: %.400s", (unsigned long long)seed,
				 cfgs[k].name, why);
		if (k == 0)
			break;                  /* nothing to compare with */
	}
	free(prog);
	return fails;
}

TEST(random_programs_print_the_same_under_every_configuration)
{
	char first[600] = "";
	uint64_t bad_seeds = 0;
	start_ns = mono_ns();
	for (uint64_t s = first_seed; s < first_seed + nseeds && bad_seeds < PG_MAX_FAILS; s++)
		bad_seeds += one_seed(s, first, sizeof first) > 0;
	for (unsigned k = 0; k < NCFG; k++)
		printf("  %-22s %4llu runs %7.2f s, %8llu minor collections, %6llu heap walks, "
		       "%7llu old cycles, %6llu restores\n", cfgs[k].name,
		       (unsigned long long)totals[k].runs, totals[k].ns / 1e9,
		       (unsigned long long)totals[k].minor, (unsigned long long)totals[k].walks,
		       (unsigned long long)totals[k].cycles, (unsigned long long)totals[k].restores);
	printf("  %llu seeds from %llu in %.1f s\n", (unsigned long long)nseeds,
	       (unsigned long long)first_seed, (mono_ns() - start_ns) / 1e9);
	CHECKF(bad_seeds == 0, "%llu seed(s) failed, first: %s", (unsigned long long)bad_seeds, first);
}

/* The configurations did what they are there for (over the whole run). */
TEST(the_configurations_exercise_the_nursery)
{
	for (unsigned k = 1; k < NCFG; k++) {
		if (!totals[k].runs)
			continue;
		CHECKF(totals[k].minor >= totals[k].runs, "%s: %llu minor collections in %llu runs",
		       cfgs[k].name, (unsigned long long)totals[k].minor, (unsigned long long)totals[k].runs);
		if (cfgs[k].young && cfgs[k].young <= (8 << 10) && totals[k].runs >= 10)
			CHECKF(totals[k].walks > 0, "%s: the remembered set never overflowed", cfgs[k].name);
		if (cfgs[k].gc == GC_FULL)
			CHECKF(totals[k].cycles > totals[0].cycles, "%s: %llu old cycles, no more than the reference",
			       cfgs[k].name, (unsigned long long)totals[k].cycles);
		if (cfgs[k].restore)
			CHECKF(totals[k].restores >= totals[k].runs / 2, "%s: %llu restores in %llu runs",
			       cfgs[k].name, (unsigned long long)totals[k].restores, (unsigned long long)totals[k].runs);
	}
}

TEST(the_generator_is_deterministic)
{
	size_t a, b, c;
	char *p = pg_program(7, &a), *q = pg_program(7, &b), *r = pg_program(8, &c);
	CHECK(a == b && memcmp(p, q, a) == 0);
	CHECK(a != c || memcmp(p, r, a) != 0);
	free(p);
	free(q);
	free(r);
}

int main(int argc, char **argv)
{
	check_begin("vm_young_stress_test");
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	if (argc > 1)
		nseeds = strtoull(argv[1], NULL, 0);
	first_seed = env_u64("YOUNG_STRESS_FIRST", 1);
	if (getenv("YOUNG_STRESS_SEED")) {
		first_seed = env_u64("YOUNG_STRESS_SEED", 1);
		nseeds = 1;
	}
	only_cfg = getenv("YOUNG_STRESS_CONFIG");
	for (unsigned k = 1; only_cfg && k <= NCFG; k++)
		if (k == NCFG) {
			fprintf(stderr, "no configuration %s\n", only_cfg);
			return 2;
		} else if (strcmp(only_cfg, cfgs[k].name) == 0) {
			break;
		}
	const char *dump = getenv("YOUNG_STRESS_DUMP");
	if (dump) {
		size_t len;
		char *prog = pg_program(first_seed, &len);
		FILE *f = fopen(dump, "w");
		if (!f || fwrite(prog, 1, len, f) != len || fclose(f))
			return 2;
		free(prog);
	}
	RUN(the_generator_is_deterministic);
	RUN(random_programs_print_the_same_under_every_configuration);
	RUN(the_configurations_exercise_the_nursery);
	return check_done();
}
