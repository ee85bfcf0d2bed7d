/* plat_misc_test.c — the hosted platform's small primitives: entropy, the
 * console (write to fd 1, read from fd 0 with a timeout, EOF), halt, plus the
 * boundary's common pieces: the err_str() table and plat_install()'s version
 * check. */
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "hosted.h"

#define MS 1000000ull

TEST(entropy_differs_and_is_not_zero)
{
	unsigned char a[32], b[32], zero[32] = { 0 };
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	CHECK_EQ(plat_entropy(a, sizeof a), 0);
	CHECK_EQ(plat_entropy(b, sizeof b), 0);
	CHECK(memcmp(a, b, sizeof a) != 0);
	CHECK(memcmp(a, zero, sizeof a) != 0);
	CHECK(memcmp(b, zero, sizeof b) != 0);
	/* A large request is filled to the end (getrandom returns at most
	 * 32 MiB - 1 per call, so this needs the loop). */
	static unsigned char big[33 << 20];
	memset(big + sizeof big - 64, 0, 64);
	CHECK_EQ(plat_entropy(big, sizeof big), 0);
	CHECK(memcmp(big + sizeof big - 32, zero, 32) != 0);
	CHECK(memcmp(big + sizeof big - 64, zero, 32) != 0);
}

/* Runs fn in a child whose fd `fd` is a pipe; returns what the child wrote
 * there (NUL-terminated) and its wait status. */
static int child_capture(int fd, void (*fn)(void), char *out, size_t cap,
			 int *status)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		close(p[0]);
		dup2(p[1], fd);
		fn();
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(p[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	waitpid(pid, status, 0);
	return (int)n;
}

static void do_console_write(void)
{
	static const char msg[] = "hello, console\n\0and bytes after a NUL";
	plat_console_write(msg, sizeof msg - 1);
	/* No stdio buffering to lose: leave without flushing anything. */
	_exit(0);
}

TEST(console_write_reaches_stdout)
{
	char out[128];
	int status;
	int n = child_capture(1, do_console_write, out, sizeof out, &status);
	static const char want[] = "hello, console\n\0and bytes after a NUL";
	CHECK_EQ(n, sizeof want - 1);
	CHECK(memcmp(out, want, sizeof want - 1) == 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* console_read: timeout with nothing there, data, then -ERR_CLOSED at EOF.
 * fd 0 is swapped for a pipe for the duration. */
TEST(console_read_timeout_data_eof)
{
	int p[2];
	char buf[32];
	CHECK_EQ(pipe(p), 0);
	int saved = dup(0);
	CHECK(saved >= 0);
	CHECK(dup2(p[0], 0) == 0);
	close(p[0]);
	uint64_t t0 = plat_monotonic_ns();
	int rc_timeout = plat_console_read(buf, sizeof buf, 20 * MS);
	uint64_t dt = plat_monotonic_ns() - t0;
	int rc_poll = plat_console_read(buf, sizeof buf, 0);
	ssize_t w = write(p[1], "abc", 3);
	int rc_data = plat_console_read(buf, sizeof buf, 1000 * MS);
	close(p[1]);
	int rc_eof = plat_console_read(buf, sizeof buf, 1000 * MS);
	dup2(saved, 0);
	close(saved);
	CHECK_EQ(rc_timeout, 0);
	CHECK(dt >= 20 * MS);
	CHECK_EQ(rc_poll, 0);
	CHECK_EQ(w, 3);
	CHECK_EQ(rc_data, 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	CHECK_EQ(rc_eof, -ERR_CLOSED);
	CHECK_EQ(plat_console_read(NULL, 1, 0), -ERR_INVAL);
}

static void do_halt(void)
{
	plat_panic("invariant %s broken", "x");
}

TEST(halt_prints_and_aborts)
{
	char out[256];
	int status;
	child_capture(2, do_halt, out, sizeof out, &status);
	CHECKF(strcmp(out, "panic: invariant x broken\n") == 0, "stderr '%s'", out);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

TEST(err_str_table)
{
	for (int i = 0; i < ERR_COUNT_; i++) {
		const char *m = err_str(i);
		CHECK(m != NULL && m[0] != 0);
		CHECK(err_str(-i) == m);
		CHECK(strcmp(m, "unknown error") != 0);
		for (int j = 0; j < i; j++)
			CHECKF(strcmp(m, err_str(j)) != 0, "codes %d and %d share '%s'",
			       i, j, m);
	}
	CHECK(strcmp(err_str(0), "success") == 0);
	CHECK(strcmp(err_str(-ERR_TIMEDOUT), "timed out") == 0);
	CHECK(strcmp(err_str(ERR_BUSY), "resource busy") == 0);
	CHECK(strcmp(err_str(ERR_COUNT_), "unknown error") == 0);
	CHECK(strcmp(err_str(-ERR_COUNT_ - 5), "unknown error") == 0);
	CHECK(strcmp(err_str(1 << 30), "unknown error") == 0);
	CHECK(strcmp(err_str(INT_MIN), "unknown error") == 0);
}

TEST(install_checks_version)
{
	struct plat_ops bad = plat_hosted_ops;
	bad.version = PLAT_ABI_VERSION + 1;
	CHECK_EQ(plat_install(&bad), -ERR_VERSION);
	CHECK(plat_active == &plat_hosted_ops);   /* the old table stays */
	CHECK_EQ(plat_install(NULL), -ERR_VERSION);
	CHECK(plat_active == &plat_hosted_ops);
	CHECK_EQ(plat_hosted_ops.version, PLAT_ABI_VERSION);
	CHECK(strcmp(plat_active->name, "hosted-linux") == 0);
	/* Every entry of the hosted table is filled. */
	const void *const *slot = (const void *const *)&plat_hosted_ops.name;
	const void *const *end = (const void *const *)(&plat_hosted_ops + 1);
	for (; slot < end; slot++)
		CHECKF(*slot != NULL, "slot %d of plat_hosted_ops is NULL",
		       (int)(slot - (const void *const *)&plat_hosted_ops.name));
	CHECK_EQ(plat_hosted_init(), 0);          /* idempotent */
	CHECK(plat_active == &plat_hosted_ops);
}

int main(void)
{
	check_begin("plat_misc_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: plat_misc_test/init: plat_hosted_init failed\n");
		return 1;
	}
	RUN(entropy_differs_and_is_not_zero);
	RUN(console_write_reaches_stdout);
	RUN(console_read_timeout_data_eof);
	RUN(halt_prints_and_aborts);
	RUN(err_str_table);
	RUN(install_checks_version);
	return check_done();
}
