/* outcommit_test.c — the output-commit engine (replication/outcommit.h) with
 * a recording sink: held until the epoch commits, released in order, a
 * commit releases exactly the epochs up to it, full means wait (never drop),
 * and the switch off writes through; socket output (net.write) is held and
 * released in one order with the console, and a held close follows its
 * socket's bytes. */
#include <stdio.h>
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

/* One log of everything both sinks saw, in order: "c:BYTES|" for the
 * console, "A:BYTES|" / "A:CLOSE|" for socket A (likewise B). */
static char evlog[4096];
static int sock_a, sock_b;             /* their addresses are the channels */

static void log_add(const char *who, const char *s, size_t len)
{
	size_t n = strlen(evlog);
	snprintf(evlog + n, sizeof evlog - n, "%s:%.*s|", who, (int)len, s);
}

static void log_console(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	log_add("c", s, len);
}

static void log_net(void *ctx, void *chan, const char *s, size_t len)
{
	(void)ctx;
	const char *who = chan == &sock_a ? "A" : chan == &sock_b ? "B" : "?";
	if (s == NULL)
		log_add(who, "CLOSE", 5);
	else
		log_add(who, s, len);
}

static struct repl_oc *make_net(bool hold, size_t cap)
{
	evlog[0] = 0;
	struct repl_oc *oc = NULL;
	struct repl_oc_config c = { .hold = hold, .capacity = cap,
		.sink = log_console, .net_sink = log_net };
	if (repl_oc_new(&c, &oc) != 0)
		return NULL;
	return oc;
}

TEST(net_held_until_commit_in_order_with_console)
{
	struct repl_oc *oc = make_net(true, 0);
	CHECK(oc != NULL);
	repl_oc_write(oc, 3, "a", 1);
	repl_oc_write_net(oc, 3, &sock_a, "bb", 2);
	repl_oc_write(oc, 3, "c", 1);
	repl_oc_write_net(oc, 3, &sock_a, "d", 1);
	repl_oc_write_net(oc, 4, &sock_b, "e", 1);
	CHECK(evlog[0] == 0);
	CHECK(repl_oc_held(oc) == 6);
	repl_oc_commit(oc, 2);
	CHECK(evlog[0] == 0);
	repl_oc_commit(oc, 3);             /* epoch 3 only, in write order */
	CHECK(strcmp(evlog, "c:a|A:bb|c:c|A:d|") == 0);
	CHECK(repl_oc_held(oc) == 1);
	repl_oc_commit(oc, 4);
	CHECK(strcmp(evlog, "c:a|A:bb|c:c|A:d|B:e|") == 0);
	CHECK(repl_oc_held(oc) == 0);
	repl_oc_free(oc);
}

TEST(net_close_deferred_after_held_bytes)
{
	struct repl_oc *oc = make_net(true, 0);
	repl_oc_write_net(oc, 5, &sock_a, "x", 1);
	repl_oc_close_net(oc, 5, &sock_a);
	repl_oc_write_net(oc, 6, &sock_b, "y", 1);
	repl_oc_close_net(oc, 6, &sock_b);
	repl_oc_commit(oc, 4);
	CHECK(evlog[0] == 0);              /* neither sent nor closed yet */
	repl_oc_commit(oc, 5);
	CHECK(strcmp(evlog, "A:x|A:CLOSE|") == 0);
	repl_oc_commit(oc, 6);
	CHECK(strcmp(evlog, "A:x|A:CLOSE|B:y|B:CLOSE|") == 0);
	repl_oc_free(oc);
}

TEST(net_bytes_count_toward_the_bound)
{
	struct repl_oc *oc = make_net(true, 4);
	CHECK(!repl_oc_write(oc, 2, "ab", 2));
	CHECK(repl_oc_write_net(oc, 2, &sock_a, "cde", 3));
	CHECK(repl_oc_full(oc));
	repl_oc_commit(oc, 2);
	CHECK(!repl_oc_full(oc));
	CHECK(strcmp(evlog, "c:ab|A:cde|") == 0);
	repl_oc_free(oc);
}

TEST(net_free_drops_bytes_but_closes)
{
	/* A crash or stop before the commit: the client never gets the bytes,
	 * but the socket is still closed, not leaked. */
	struct repl_oc *oc = make_net(true, 0);
	repl_oc_write_net(oc, 7, &sock_a, "lost", 4);
	repl_oc_close_net(oc, 7, &sock_a);
	repl_oc_write_net(oc, 7, &sock_b, "lost too", 8);
	repl_oc_free(oc);
	CHECK(strcmp(evlog, "A:CLOSE|") == 0);
}

TEST(net_switch_off_writes_and_closes_through)
{
	struct repl_oc *oc = make_net(false, 0);
	repl_oc_write_net(oc, 9, &sock_a, "now", 3);
	repl_oc_close_net(oc, 9, &sock_a);
	CHECK(strcmp(evlog, "A:now|A:CLOSE|") == 0);
	CHECK(repl_oc_held(oc) == 0);
	repl_oc_free(oc);
}

TEST(net_ignored_without_a_net_sink)
{
	struct repl_oc *oc = make(true, 0);
	CHECK(!repl_oc_write_net(oc, 1, &sock_a, "x", 1));
	repl_oc_close_net(oc, 1, &sock_a);
	CHECK(repl_oc_held(oc) == 0);
	repl_oc_commit(oc, 1);
	CHECK(nseen == 0);
	repl_oc_free(oc);
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
	RUN(net_held_until_commit_in_order_with_console);
	RUN(net_close_deferred_after_held_bytes);
	RUN(net_bytes_count_toward_the_bound);
	RUN(net_free_drops_bytes_but_closes);
	RUN(net_switch_off_writes_and_closes_through);
	RUN(net_ignored_without_a_net_sink);
	return check_done();
}
