/* plat_blk_test.c — hosted file block devices: create with a size, sector-
 * aligned round trips, argument and range errors, read-only opens, and a
 * flushed write surviving kill -9 of the writer. Files live in a fresh
 * directory under /tmp, removed at the end. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "hosted.h"

#define SECTOR PLAT_SECTOR_SIZE
static char dir[64];

static const char *path(const char *name)
{
	static char buf[128];
	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

static void pattern(char *buf, size_t len, int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 13 + seed * 101 + (i >> 9));
}

TEST(create_sets_size)
{
	struct plat_blk *b;
	CHECK_EQ(plat_blk_open(path("new"), 0, 0, &b), -ERR_NOENT);
	CHECK_EQ(plat_blk_open(path("new"), PLAT_BLK_CREATE, 1 << 20, &b), 0);
	CHECK_EQ(b->size, 1 << 20);
	CHECK(strcmp(b->name, path("new")) == 0);
	plat_blk_close(b);
	struct stat st;
	CHECK_EQ(stat(path("new"), &st), 0);
	CHECK_EQ(st.st_size, 1 << 20);
	/* CREATE on an existing file opens it as it is. */
	CHECK_EQ(plat_blk_open(path("new"), PLAT_BLK_CREATE, 4096, &b), 0);
	CHECK_EQ(b->size, 1 << 20);
	plat_blk_close(b);
	/* The size is the file's, rounded down to whole sectors. */
	int fd = open(path("odd"), O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, 3 * SECTOR + 100), 0);
	close(fd);
	CHECK_EQ(plat_blk_open(path("odd"), 0, 0, &b), 0);
	CHECK_EQ(b->size, 3 * SECTOR);
	plat_blk_close(b);
}

TEST(round_trip)
{
	static char w[64 * 1024], r[64 * 1024];
	struct plat_blk *b;
	CHECK_EQ(plat_blk_open(path("rt"), PLAT_BLK_CREATE, 1 << 20, &b), 0);
	pattern(w, sizeof w, 1);
	CHECK_EQ(plat_blk_write(b, 8 * SECTOR, w, sizeof w), 0);
	CHECK_EQ(plat_blk_write(b, (1 << 20) - SECTOR, w, SECTOR), 0);  /* last */
	CHECK_EQ(plat_blk_flush(b), 0);
	memset(r, 0, sizeof r);
	CHECK_EQ(plat_blk_read(b, 8 * SECTOR, r, sizeof r), 0);
	CHECK(memcmp(r, w, sizeof w) == 0);
	CHECK_EQ(plat_blk_read(b, 0, r, SECTOR), 0);     /* never written */
	for (unsigned i = 0; i < SECTOR; i++)
		CHECK_EQ(r[i], 0);
	plat_blk_close(b);
	/* A fresh open sees the same bytes. */
	CHECK_EQ(plat_blk_open(path("rt"), PLAT_BLK_RDONLY, 0, &b), 0);
	CHECK_EQ(plat_blk_read(b, 9 * SECTOR, r, 2 * SECTOR), 0);
	CHECK(memcmp(r, w + SECTOR, 2 * SECTOR) == 0);
	CHECK_EQ(plat_blk_read(b, (1 << 20) - SECTOR, r, SECTOR), 0);
	CHECK(memcmp(r, w, SECTOR) == 0);
	CHECK_EQ(plat_blk_write(b, 0, w, SECTOR), -ERR_INVAL);   /* read-only */
	plat_blk_close(b);
}

TEST(bad_requests_rejected)
{
	char buf[2 * SECTOR];
	struct plat_blk *b;
	CHECK_EQ(plat_blk_open(path("bad"), PLAT_BLK_CREATE, 8 * SECTOR, &b), 0);
	CHECK_EQ(plat_blk_read(b, 1, buf, SECTOR), -ERR_INVAL);
	CHECK_EQ(plat_blk_read(b, 0, buf, SECTOR + 1), -ERR_INVAL);
	CHECK_EQ(plat_blk_write(b, SECTOR / 2, buf, SECTOR), -ERR_INVAL);
	CHECK_EQ(plat_blk_write(b, 0, buf, 100), -ERR_INVAL);
	CHECK_EQ(plat_blk_read(b, 8 * SECTOR, buf, SECTOR), -ERR_RANGE);
	CHECK_EQ(plat_blk_read(b, 7 * SECTOR, buf, 2 * SECTOR), -ERR_RANGE);
	CHECK_EQ(plat_blk_write(b, 7 * SECTOR, buf, 2 * SECTOR), -ERR_RANGE);
	CHECK_EQ(plat_blk_read(b, UINT64_MAX - SECTOR + 1, buf, SECTOR), -ERR_RANGE);
	CHECK_EQ(plat_blk_read(b, 7 * SECTOR, buf, SECTOR), 0);  /* the last one is fine */
	plat_blk_close(b);
	struct stat st;                   /* a rejected write did not grow it */
	CHECK_EQ(stat(path("bad"), &st), 0);
	CHECK_EQ(st.st_size, 8 * SECTOR);

	CHECK_EQ(plat_blk_open(path("x"), PLAT_BLK_CREATE, 100, &b), -ERR_INVAL);
	CHECK_EQ(plat_blk_open(path("x"), PLAT_BLK_CREATE | PLAT_BLK_RDONLY,
			       SECTOR, &b), -ERR_INVAL);
	CHECK_EQ(plat_blk_open(path("x"), 0x80, 0, &b), -ERR_INVAL);
	CHECK_EQ(plat_blk_open(dir, 0, 0, &b), -ERR_INVAL);       /* a directory */
	CHECK_EQ(plat_blk_open("", 0, 0, &b), -ERR_INVAL);
	CHECK_EQ(plat_blk_open(NULL, 0, 0, &b), -ERR_INVAL);
	CHECK_EQ(access(path("x"), F_OK), -1);                     /* none created */
}

/* The child writes and flushes, tells the parent, and waits to be killed:
 * nothing after the flush (no close, no exit) gets a chance to run. */
TEST(flushed_write_survives_kill9)
{
	enum { LEN = 16 * 1024 };
	static char w[LEN], r[LEN];
	int fds[2];
	pattern(w, LEN, 7);
	CHECK_EQ(pipe(fds), 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct plat_blk *b;
		char ok = 'n';
		close(fds[0]);
		if (plat_blk_open(path("kill9"), PLAT_BLK_CREATE, 1 << 20, &b) == 0 &&
		    plat_blk_write(b, 32 * SECTOR, w, LEN) == 0 &&
		    plat_blk_flush(b) == 0)
			ok = 'y';
		if (write(fds[1], &ok, 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(fds[1]);
	char ok = 0;
	ssize_t n = read(fds[0], &ok, 1);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	close(fds[0]);
	CHECK_EQ(n, 1);
	CHECK_EQ(ok, 'y');
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct plat_blk *b;
	CHECK_EQ(plat_blk_open(path("kill9"), 0, 0, &b), 0);
	CHECK_EQ(b->size, 1 << 20);
	CHECK_EQ(plat_blk_read(b, 32 * SECTOR, r, LEN), 0);
	plat_blk_close(b);
	CHECK(memcmp(r, w, LEN) == 0);
}

static void cleanup(void)
{
	const char *names[] = { "new", "odd", "rt", "bad", "kill9", "x" };
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(path(names[i]));
	rmdir(dir);
}

int main(void)
{
	check_begin("plat_blk_test");
	snprintf(dir, sizeof dir, "/tmp/plat_blk_test.XXXXXX");
	if (plat_hosted_init() != 0 || mkdtemp(dir) == NULL) {
		printf("FAIL: plat_blk_test/init: plat_hosted_init or mkdtemp failed\n");
		return 1;
	}
	RUN(create_sets_size);
	RUN(round_trip);
	RUN(bad_requests_rejected);
	RUN(flushed_write_survives_kill9);
	cleanup();
	return check_done();
}
