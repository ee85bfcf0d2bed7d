/* plat_arena_test.c — the hosted arena: reserving at PLAT_ARENA_BASE, page
 * protection and the fault hook (read/write faults, once per page), page_fill
 * (content, protection, atomicity against a faulting reader), mem_discard, and
 * faults that must kill the process (checked in forked children). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "check.h"
#include "hosted.h"

#define PAGE PLAT_PAGE_SIZE
#define SMALL_ARENA (64ull << 20)

/* What the hook saw; written in the signal handler, so volatile: the compiler
 * cannot know a plain memory access runs the hook. */
static volatile struct {
	int mode;              /* HOOK_* */
	int count;
	int writes;            /* faults reported as writes */
	uintptr_t last_addr;
	int protect_failed;
} hook;

enum { HOOK_TO_READ, HOOK_TO_RW, HOOK_REFUSE, HOOK_SPIN };

static bool test_hook(void *ctx, void *addr, bool is_write)
{
	(void)ctx;
	__atomic_add_fetch((int *)&hook.count, 1, __ATOMIC_SEQ_CST);
	if (is_write)
		__atomic_add_fetch((int *)&hook.writes, 1, __ATOMIC_SEQ_CST);
	hook.last_addr = (uintptr_t)addr;
	void *page = (void *)((uintptr_t)addr & ~(uintptr_t)(PAGE - 1));
	switch (hook.mode) {
	case HOOK_TO_READ:
		if (plat_mem_protect(page, PAGE, PLAT_PROT_READ) != 0)
			hook.protect_failed = 1;
		return true;
	case HOOK_TO_RW:
		if (plat_mem_protect(page, PAGE, PLAT_PROT_RW) != 0)
			hook.protect_failed = 1;
		return true;
	case HOOK_SPIN:           /* wait for page_fill on another thread */
		plat_thread_yield();
		return true;
	default:
		return false;
	}
}

static void hook_reset(int mode)
{
	hook.count = 0;
	hook.writes = 0;
	hook.last_addr = 0;
	hook.protect_failed = 0;
	hook.mode = mode;
	plat_set_fault_handler(test_hook, NULL);
}

/* Arena accesses go through volatile, so the compiler keeps them in order
 * with the reads of the hook's counters (it cannot see the fault). */
static char rd(const char *p) { return *(const volatile char *)p; }
static void wr(char *p, char v) { *(volatile char *)p = v; }

static bool same(const char *p, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rd(p + i) != src[i])
			return false;
	return true;
}

static char *arena_up(uint64_t size)
{
	void *base = NULL;
	plat_arena_release();    /* left over by a failed test: no cascade */
	if (plat_arena_reserve(size, &base) != 0)
		return NULL;
	return base;
}

/* Resident bytes of the mappings inside [lo, hi), from /proc/self/smaps. */
static long long resident(uintptr_t lo, uintptr_t hi)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	long long total = 0;
	bool in = false;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		long long kb;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = a >= lo && b <= hi;
		else if (in && sscanf(line, "Rss: %lld kB", &kb) == 1)
			total += kb * 1024;
	}
	fclose(f);
	return total;
}

TEST(reserve_64g_at_base)
{
	uint64_t size = 64ull << 30;
	char *base = arena_up(size);
	CHECK(base != NULL);
	CHECK((uintptr_t)base == PLAT_ARENA_BASE);
	/* Nothing touched: the reservation costs no memory (its speed is a
	 * benchmark's business, not a test's). */
	long long rss = resident(PLAT_ARENA_BASE, PLAT_ARENA_BASE + size);
	CHECKF(rss >= 0 && rss < (1 << 20), "resident %lld", rss);
	void *again = NULL;
	CHECK_EQ(plat_arena_reserve(1 << 20, &again), -ERR_BUSY);
	CHECK(again == NULL);
	CHECK_EQ(plat_arena_release(), 0);
	CHECK_EQ(plat_arena_release(), -ERR_INVAL);
	base = arena_up(SMALL_ARENA);         /* release allows a new reserve */
	CHECK((uintptr_t)base == PLAT_ARENA_BASE);
	CHECK_EQ(plat_arena_release(), 0);
}

TEST(reserve_bad_args)
{
	void *base;
	CHECK_EQ(plat_arena_reserve(0, &base), -ERR_INVAL);
	CHECK_EQ(plat_arena_reserve(PAGE + 1, &base), -ERR_INVAL);
	CHECK_EQ(plat_arena_reserve(PLAT_ARENA_MAX + PAGE, &base), -ERR_RANGE);
	CHECK_EQ(plat_arena_reserve(PAGE, NULL), -ERR_INVAL);
	/* Someone else holds the address: a clear error, not a different base. */
	void *squat = mmap((void *)(uintptr_t)(PLAT_ARENA_BASE + 16 * PAGE), PAGE,
			   PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			   -1, 0);
	CHECK(squat != MAP_FAILED);
	int rc = plat_arena_reserve(SMALL_ARENA, &base);
	munmap(squat, PAGE);
	CHECK_EQ(rc, -ERR_ADDRINUSE);
	CHECK((uintptr_t)arena_up(SMALL_ARENA) == PLAT_ARENA_BASE);
	CHECK_EQ(plat_arena_release(), 0);
}

TEST(read_fault_calls_hook)
{
	char *base = arena_up(SMALL_ARENA);
	CHECK(base != NULL);
	hook_reset(HOOK_TO_READ);
	char *p = base + 5 * PAGE + 123;
	char v = rd(p);                   /* a fresh arena page is PROT_NONE */
	CHECK_EQ(v, 0);
	CHECK_EQ(hook.count, 1);
	CHECK_EQ(hook.writes, 0);
	CHECK(hook.last_addr == (uintptr_t)p);
	CHECK_EQ(hook.protect_failed, 0);
	rd(p + 100);                      /* now readable: no second fault */
	CHECK_EQ(hook.count, 1);
	/* A write to a PROT_NONE page is reported as a write. */
	hook_reset(HOOK_TO_RW);
	wr(base + 9 * PAGE + 1, 7);
	CHECK_EQ(hook.count, 1);
	CHECK_EQ(hook.writes, 1);
	CHECK_EQ(rd(base + 9 * PAGE + 1), 7);
	CHECK_EQ(plat_arena_release(), 0);
}

/* The dirty-tracking pattern: after protection to READ, the first write to
 * each page faults once, the hook opens it, later writes run free. */
TEST(write_fault_once_per_page)
{
	enum { N = 16, WRITES = 5 };
	char *base = arena_up(SMALL_ARENA);
	CHECK(base != NULL);
	CHECK_EQ(plat_mem_protect(base, N * PAGE, PLAT_PROT_READ), 0);
	hook_reset(HOOK_TO_RW);
	for (int round = 0; round < 2; round++) {
		for (int w = 0; w < WRITES; w++)
			for (int i = 0; i < N; i++)
				wr(base + i * PAGE + w * 512, (char)(round * 100 + i + w));
		CHECK_EQ(hook.count, (round + 1) * N);
		CHECK_EQ(hook.writes, (round + 1) * N);
		for (int i = 0; i < N; i++)
			CHECK_EQ(rd(base + i * PAGE + (WRITES - 1) * 512),
				 (char)(round * 100 + i + WRITES - 1));
		CHECK_EQ(plat_mem_protect(base, N * PAGE, PLAT_PROT_READ), 0);
		for (int i = 0; i < N; i++)  /* reads of READ pages never fault */
			rd(base + i * PAGE);
		CHECK_EQ(hook.count, (round + 1) * N);
	}
	CHECK_EQ(hook.protect_failed, 0);
	CHECK_EQ(plat_arena_release(), 0);
}

TEST(protect_ranges)
{
	char *base = arena_up(SMALL_ARENA);
	CHECK(base != NULL);
	hook_reset(HOOK_TO_RW);
	CHECK_EQ(plat_mem_protect(base, 8 * PAGE, PLAT_PROT_RW), 0);
	for (int i = 0; i < 8 * (int)PAGE; i++)  /* never filled: zeros */
		CHECK_EQ(((volatile char *)base)[i], 0);
	for (int i = 0; i < 8; i++)
		wr(base + i * PAGE, 1);
	CHECK_EQ(hook.count, 0);
	CHECK_EQ(plat_mem_protect(base + 2 * PAGE, 4 * PAGE, PLAT_PROT_READ), 0);
	for (int i = 0; i < 8; i++)
		wr(base + i * PAGE + 1, 2);
	CHECK_EQ(hook.count, 4);
	/* The last page of the arena is reachable; one past it is not. */
	char *last = base + SMALL_ARENA - PAGE;
	CHECK_EQ(plat_mem_protect(last, PAGE, PLAT_PROT_RW), 0);
	wr(last + PAGE - 1, 3);
	CHECK_EQ(hook.count, 4);
	CHECK_EQ(plat_mem_protect(last, 2 * PAGE, PLAT_PROT_RW), -ERR_RANGE);
	CHECK_EQ(plat_mem_protect(base - PAGE, PAGE, PLAT_PROT_RW), -ERR_RANGE);
	CHECK_EQ(plat_mem_protect(base + 1, PAGE, PLAT_PROT_RW), -ERR_INVAL);
	CHECK_EQ(plat_mem_protect(base, PAGE + 1, PLAT_PROT_RW), -ERR_INVAL);
	CHECK_EQ(plat_mem_protect(base, PAGE, (enum plat_prot)2), -ERR_INVAL);
	CHECK_EQ(plat_arena_release(), 0);
	CHECK_EQ(plat_mem_protect(base, PAGE, PLAT_PROT_RW), -ERR_INVAL);
}

TEST(page_fill_content_and_prot)
{
	static char src[PAGE];
	char *base = arena_up(SMALL_ARENA);
	CHECK(base != NULL);
	hook_reset(HOOK_TO_RW);
	for (unsigned i = 0; i < PAGE; i++)
		src[i] = (char)(i * 31 + 7);
	char *p = base + 3 * PAGE;
	CHECK_EQ(plat_page_fill(p, src, PLAT_PROT_READ), 0);
	CHECK(same(p, src, PAGE));
	CHECK_EQ(hook.count, 0);          /* readable without a fault */
	wr(p + 10, 1);                    /* but not writable */
	CHECK_EQ(hook.count, 1);
	CHECK_EQ(hook.writes, 1);
	/* Refill an accessible page: the new content replaces the old. */
	memset(src, 0x5a, PAGE);
	CHECK_EQ(plat_page_fill(p, src, PLAT_PROT_RW), 0);
	CHECK(same(p, src, PAGE));
	wr(p + 11, 2);
	CHECK_EQ(hook.count, 1);
	/* NONE: content stored, every access still faults first. */
	memset(src, 0x33, PAGE);
	CHECK_EQ(plat_page_fill(p + PAGE, src, PLAT_PROT_NONE), 0);
	hook_reset(HOOK_TO_READ);
	CHECK(same(p + PAGE, src, PAGE));
	CHECK_EQ(hook.count, 1);
	CHECK_EQ(plat_page_fill(p + 1, src, PLAT_PROT_RW), -ERR_INVAL);
	CHECK_EQ(plat_page_fill(p, NULL, PLAT_PROT_RW), -ERR_INVAL);
	CHECK_EQ(plat_page_fill(base + SMALL_ARENA, src, PLAT_PROT_RW), -ERR_RANGE);
	CHECK_EQ(plat_arena_release(), 0);
}

TEST(discard_zeroes_and_frees)
{
	enum { N = 256 };
	char *base = arena_up(SMALL_ARENA);
	CHECK(base != NULL);
	hook_reset(HOOK_REFUSE);
	CHECK_EQ(plat_mem_protect(base, N * PAGE, PLAT_PROT_RW), 0);
	for (unsigned i = 0; i < N * PAGE; i++)
		wr(base + i, (char)0xab);
	uintptr_t lo = (uintptr_t)base, hi = lo + SMALL_ARENA;
	long long before = resident(lo, hi);
	CHECKF(before >= (long long)N * PAGE, "resident %lld", before);
	CHECK_EQ(plat_mem_discard(base + PAGE, (N - 2) * PAGE), 0);
	long long after = resident(lo, hi);
	CHECKF(after <= 2 * PAGE, "resident after discard %lld", after);
	CHECK_EQ((unsigned char)rd(base), 0xab);
	CHECK_EQ((unsigned char)rd(base + N * PAGE - 1), 0xab);
	for (unsigned i = PAGE; i < (N - 1) * PAGE; i++)
		if (rd(base + i) != 0)
			CHECKF(0, "byte %u is %d after discard", i, rd(base + i));
	wr(base + 5 * PAGE, 1);           /* protection unchanged: still RW */
	CHECK_EQ(hook.count, 0);
	CHECK_EQ(plat_mem_discard(base + 1, PAGE), -ERR_INVAL);
	CHECK_EQ(plat_mem_discard(base, SMALL_ARENA + PAGE), -ERR_RANGE);
	CHECK_EQ(plat_arena_release(), 0);
}

enum { DIE_OUTSIDE, DIE_REFUSED, DIE_NO_HOOK, LIVE_RESOLVED };

/* Runs one faulting access in a child; returns its wait status. */
static int child_fault(int how)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);         /* the fatal-fault report */
		char *base = arena_up(SMALL_ARENA);
		if (base == NULL)
			_exit(7);
		hook_reset(how == LIVE_RESOLVED ? HOOK_TO_RW : HOOK_REFUSE);
		if (how == DIE_NO_HOOK)
			plat_set_fault_handler(NULL, NULL);
		wr(how == DIE_OUTSIDE ? (char *)16 : base + PAGE, 1);
		_exit(hook.count == 1 ? 0 : 4);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	return status;
}

/* A stray access (outside the arena, or no hook) is a bug: SIGSEGV. A
 * fault the hook refuses ends the process with an exit status instead. */
TEST(fatal_faults_end_the_process)
{
	int how[] = { DIE_OUTSIDE, DIE_NO_HOOK };
	for (unsigned i = 0; i < sizeof how / sizeof how[0]; i++) {
		int st = child_fault(how[i]);
		CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
		       "case %u: status 0x%x", i, st);
	}
	int rs = child_fault(DIE_REFUSED);
	CHECKF(WIFEXITED(rs) && WEXITSTATUS(rs) == HOSTED_EXIT_ARENA_FAULT,
	       "refused: status 0x%x", rs);
	/* Control: a resolved fault lets the child finish normally. */
	int st = child_fault(LIVE_RESOLVED);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
}

/* Exhausts the kernel's VMA budget (vm.max_map_count) by protecting every
 * other page, checks that surfaces as -ERR_NOMEM, then faults on a page whose
 * protection change needs a new VMA: the hook's mem_protect fails, the hook
 * ignores that and returns true, and the fault must still end the process
 * (with a message) rather than retry forever. Runs in a child; writes its
 * stderr into *out. */
static int child_vma_exhaustion(char *out, size_t cap)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		dup2(p[1], 2);
		alarm(20);                /* a retry loop dies of SIGALRM instead */
		char *base = arena_up(64ull << 30);
		if (base == NULL)
			_exit(7);
		int rc = 0;
		for (int i = 0; i < 1000000 && rc == 0; i++)
			rc = plat_mem_protect(base + (size_t)2 * i * PAGE, PAGE,
					      PLAT_PROT_READ);
		if (rc != -ERR_NOMEM)
			_exit(5);
		hook_reset(HOOK_TO_RW);
		wr(base + (32ull << 30), 1);
		_exit(6);                 /* the access went through?! */
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(p[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	int status = -1;
	waitpid(pid, &status, 0);
	return status;
}

TEST(failed_protect_in_hook_is_fatal)
{
	char err[512];
	int st = child_vma_exhaustion(err, sizeof err);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == HOSTED_EXIT_ARENA_FAULT,
	       "status 0x%x, stderr '%.200s'", st, err);
	CHECKF(strstr(err, "an OS call in the hook failed") != NULL, "stderr '%.200s'", err);
}

/* page_fill atomicity: a reader spins (through the hook) on pages another
 * thread is filling; once its access goes through, the whole page must be
 * the fill, never a mix of old and new bytes. */
enum { FILL_PAGES = 512, FILL_ROUNDS = 6 };
static char *fill_base;
static int fill_bad;

static void fill_reader(void *arg)
{
	int round = (int)(intptr_t)arg;
	static __thread char copy[PAGE];
	for (int i = 0; i < FILL_PAGES; i++) {
		const char *pg = fill_base + (size_t)i * PAGE;
		rd(pg);                   /* waits (in the hook) for the fill */
		memcpy(copy, pg, PAGE);
		char want = (char)(round * 37 + i);
		for (unsigned j = 0; j < PAGE; j++)
			if (copy[j] != want) {
				__atomic_add_fetch(&fill_bad, 1, __ATOMIC_SEQ_CST);
				break;
			}
	}
}

TEST(page_fill_atomic_for_readers)
{
	static char src[PAGE];
	fill_base = arena_up(SMALL_ARENA);
	CHECK(fill_base != NULL);
	hook_reset(HOOK_SPIN);
	for (int round = 0; round < FILL_ROUNDS; round++) {
		/* Old content that a torn fill would expose: the previous round. */
		CHECK_EQ(plat_mem_protect(fill_base, FILL_PAGES * PAGE, PLAT_PROT_NONE), 0);
		plat_thread *t;
		int waits = hook.count;
		CHECK_EQ(plat_thread_create(&t, fill_reader, (void *)(intptr_t)round,
					    "fill-reader"), 0);
		/* Start filling once the reader is stuck on page 0 (bounded). */
		uint64_t give_up = plat_monotonic_ns() + 5000000000ull;
		while (hook.count == waits && plat_monotonic_ns() < give_up)
			plat_thread_yield();
		for (int i = 0; i < FILL_PAGES; i++) {
			memset(src, round * 37 + i, PAGE);
			CHECK_EQ(plat_page_fill(fill_base + (size_t)i * PAGE, src,
						PLAT_PROT_READ), 0);
		}
		CHECK_EQ(plat_thread_join(t), 0);
	}
	CHECK_EQ(fill_bad, 0);
	CHECKF(hook.count >= FILL_ROUNDS, "the reader waited on %d fills", hook.count);
	CHECK_EQ(plat_arena_release(), 0);
}

int main(void)
{
	check_begin("plat_arena_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: plat_arena_test/init: plat_hosted_init failed\n");
		return 1;
	}
	RUN(reserve_64g_at_base);
	RUN(reserve_bad_args);
	RUN(read_fault_calls_hook);
	RUN(write_fault_once_per_page);
	RUN(protect_ranges);
	RUN(page_fill_content_and_prot);
	RUN(discard_zeroes_and_frees);
	RUN(fatal_faults_end_the_process);
	RUN(failed_protect_in_hook_is_fatal);
	RUN(page_fill_atomic_for_readers);
	return check_done();
}
