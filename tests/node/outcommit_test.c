/* outcommit_test.c — the output-commit engine (replication/outcommit.h) with
 * a recording sink: held until the epoch commits, released in order, a
 * commit releases exactly the epochs up to it, full means wait (never drop),
 * and the switch off writes through. */
#include <string.h>

#include "check.h"
#include "hosted.h"
#include "plat.h"
#include "../../replication/outcommit.h"

static char seen[4096];
static size_t nseen;
static unsigned calls;

static void sink(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	memcpy(seen + nseen, s, len);
	nseen += len;
	seen[nseen] = 0;
	calls++;
}

static struct repl_oc *make(bool hold, size_t cap)
{
	nseen = 0;
	seen[0] = 0;
	calls = 0;
	struct repl_oc *oc = NULL;
	struct repl_oc_config c = { .hold = hold, .capacity = cap, .sink = sink };
	if (repl_oc_new(&c, &oc) != 0)
		return NULL;
	return oc;
}

TEST(held_until_its_epoch_commits)
{
	struct repl_oc *oc = make(true, 0);
	CHECK(oc != NULL);
	repl_oc_write(oc, 5, "tick 1\n", 7);
	CHECK(nseen == 0);
	repl_oc_commit(oc, 4);             /* an older epoch: nothing of 5 */
	CHECK(nseen == 0);
	CHECK(repl_oc_held(oc) == 7);
	repl_oc_commit(oc, 5);
	CHECK(strcmp(seen, "tick 1\n") == 0);
	CHECK(repl_oc_held(oc) == 0);
	repl_oc_free(oc);
}

TEST(commit_releases_a_prefix_in_order)
{
	struct repl_oc *oc = make(true, 0);
	repl_oc_write(oc, 3, "a", 1);
	repl_oc_write(oc, 3, "b", 1);
	repl_oc_write(oc, 4, "c", 1);
	repl_oc_write(oc, 6, "d", 1);
	repl_oc_commit(oc, 5);             /* epochs 3 and 4, not 6 */
	CHECK(strcmp(seen, "abc") == 0);
	CHECK(calls == 1);                 /* one contiguous release */
	repl_oc_write(oc, 7, "e", 1);
	repl_oc_commit(oc, 6);
	CHECK(strcmp(seen, "abcd") == 0);
	repl_oc_commit(oc, 9);
	CHECK(strcmp(seen, "abcde") == 0);
	repl_oc_commit(oc, 9);             /* a repeated commit: nothing new */
	CHECK(strcmp(seen, "abcde") == 0);
	repl_oc_free(oc);
}

TEST(full_asks_to_wait_and_never_drops)
{
	struct repl_oc *oc = make(true, 8);
	CHECK(!repl_oc_write(oc, 2, "12345", 5));
	CHECK(repl_oc_write(oc, 2, "67890", 5));     /* over: still held */
	CHECK(repl_oc_full(oc));
	CHECK(repl_oc_held(oc) == 10);
	/* No commit: waiting for room times out. */
	CHECK(repl_oc_wait_room(oc, plat_monotonic_ns() + 20000000) == -ERR_TIMEDOUT);
	repl_oc_commit(oc, 2);
	CHECK(strcmp(seen, "1234567890") == 0);
	CHECK(repl_oc_wait_room(oc, plat_monotonic_ns() + 20000000) == 0);
	CHECK(!repl_oc_full(oc));
	repl_oc_free(oc);
}

TEST(switch_off_writes_through)
{
	struct repl_oc *oc = make(false, 0);
	CHECK(!repl_oc_write(oc, 9, "now", 3));
	CHECK(strcmp(seen, "now") == 0);
	CHECK(repl_oc_held(oc) == 0);
	repl_oc_free(oc);
}

TEST(bad_config_refused)
{
	struct repl_oc *oc = NULL;
	struct repl_oc_config c = { .hold = true };
	CHECK(repl_oc_new(&c, &oc) == -ERR_INVAL);
}

int main(void)
{
	check_begin("outcommit");
	if (plat_hosted_init() != 0)
		return 1;
	RUN(held_until_its_epoch_commits);
	RUN(commit_releases_a_prefix_in_order);
	RUN(full_asks_to_wait_and_never_drops);
	RUN(switch_off_writes_through);
	RUN(bad_config_refused);
	return check_done();
}
