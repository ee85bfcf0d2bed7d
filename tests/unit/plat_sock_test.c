/* plat_sock_test.c — hosted TCP over loopback: listen on an ephemeral port,
 * connect, data both ways, timeouts, end of stream, refused connections,
 * address in use, and send to a closed peer (an error, not SIGPIPE). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hosted.h"

#define MS 1000000ull
#define WAIT (5000 * MS)                  /* "should be immediate", bounded */

/* Receives exactly len bytes. */
static int recv_all(plat_sock *s, char *buf, size_t len)
{
	while (len > 0) {
		long n = plat_sock_recv(s, buf, len, WAIT);
		if (n <= 0)
			return n == 0 ? -ERR_CLOSED : (int)n;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A connected pair through a listener on 127.0.0.1, port chosen by the OS. */
static int pair(plat_sock **ls, plat_sock **c, plat_sock **a)
{
	int rc = plat_sock_listen("127.0.0.1", 0, ls);
	if (rc != 0)
		return rc;
	int port = plat_sock_port(*ls);
	if (port <= 0)
		return -ERR_IO;
	rc = plat_sock_connect("127.0.0.1", (uint16_t)port, c, WAIT);
	if (rc == 0)
		rc = plat_sock_accept(*ls, a, WAIT);
	return rc;
}

TEST(send_recv_both_ways)
{
	plat_sock *ls, *c, *a;
	CHECK_EQ(pair(&ls, &c, &a), 0);
	CHECK(plat_sock_port(ls) > 0);
	CHECK(plat_sock_port(c) > 0 && plat_sock_port(c) != plat_sock_port(ls));
	CHECK_EQ(plat_sock_port(a), plat_sock_port(ls));
	char buf[64];
	CHECK_EQ(plat_sock_send(c, "ping", 4), 0);
	CHECK_EQ(recv_all(a, buf, 4), 0);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_EQ(plat_sock_send(a, "pong!", 5), 0);
	CHECK_EQ(recv_all(c, buf, 5), 0);
	CHECK(memcmp(buf, "pong!", 5) == 0);
	/* Larger messages arrive whole, over as many recv calls as it takes. */
	static char big[256 * 1024], got[256 * 1024];
	for (size_t i = 0; i < sizeof big; i += 64 * 1024) {
		memset(big + i, (int)(i >> 16) + 1, 64 * 1024);
		CHECK_EQ(plat_sock_send(c, big + i, 64 * 1024), 0);
		CHECK_EQ(recv_all(a, got + i, 64 * 1024), 0);
	}
	CHECK(memcmp(big, got, sizeof big) == 0);
	plat_sock_close(a);
	plat_sock_close(c);
	plat_sock_close(ls);
}

TEST(timeouts)
{
	plat_sock *ls, *c, *a;
	CHECK_EQ(pair(&ls, &c, &a), 0);
	char buf[8];
	uint64_t t0 = plat_monotonic_ns();
	CHECK_EQ(plat_sock_recv(a, buf, sizeof buf, 30 * MS), -ERR_TIMEDOUT);
	CHECK(plat_monotonic_ns() - t0 >= 30 * MS);
	CHECK_EQ(plat_sock_recv(a, buf, sizeof buf, 0), -ERR_TIMEDOUT);  /* poll */
	plat_sock *none;
	t0 = plat_monotonic_ns();
	CHECK_EQ(plat_sock_accept(ls, &none, 20 * MS), -ERR_TIMEDOUT);
	CHECK(plat_monotonic_ns() - t0 >= 20 * MS);
	/* Data that is already there comes back even with a zero timeout. */
	CHECK_EQ(plat_sock_send(c, "xy", 2), 0);
	CHECK_EQ(plat_sock_recv(a, buf, 1, WAIT), 1);
	CHECK_EQ(plat_sock_recv(a, buf + 1, 1, 0), 1);
	CHECK(memcmp(buf, "xy", 2) == 0);
	CHECK_EQ(plat_sock_recv(a, buf, 0, 0), -ERR_INVAL);  /* 0 would mean EOF */
	plat_sock_close(a);
	plat_sock_close(c);
	plat_sock_close(ls);
}

TEST(peer_close_gives_eof_then_send_fails)
{
	plat_sock *ls, *c, *a;
	CHECK_EQ(pair(&ls, &c, &a), 0);
	char buf[8];
	CHECK_EQ(plat_sock_send(c, "bye", 3), 0);
	plat_sock_close(c);
	CHECK_EQ(recv_all(a, buf, 3), 0);        /* data first, then EOF */
	CHECK_EQ(plat_sock_recv(a, buf, sizeof buf, WAIT), 0);
	/* Writing to a closed peer: the first send may be accepted locally,
	 * a later one fails with an error (and SIGPIPE does not kill us). */
	int rc = 0;
	for (int i = 0; i < 50 && rc == 0; i++) {
		rc = plat_sock_send(a, "x", 1);
		if (rc == 0)
			plat_sleep_ns(MS);
	}
	CHECK_EQ(rc, -ERR_CLOSED);
	plat_sock_close(a);
	plat_sock_close(ls);
}

TEST(refused_and_in_use)
{
	plat_sock *ls, *c, *a, *s;
	CHECK_EQ(pair(&ls, &c, &a), 0);
	int port = plat_sock_port(ls);
	CHECK_EQ(plat_sock_listen("127.0.0.1", (uint16_t)port, &s), -ERR_ADDRINUSE);
	/* The server side closes first, so its port sits in TIME_WAIT; with
	 * SO_REUSEADDR it can be listened on again right away. */
	plat_sock_close(a);
	plat_sock_close(c);
	plat_sock_close(ls);
	CHECK_EQ(plat_sock_listen("127.0.0.1", (uint16_t)port, &ls), 0);
	plat_sock_close(ls);
	/* Nobody listens there now. */
	CHECK_EQ(plat_sock_connect("127.0.0.1", (uint16_t)port, &s, WAIT),
		 -ERR_CONNREFUSED);
	CHECK_EQ(plat_sock_listen("not-an-ip", 0, &ls), -ERR_INVAL);
	CHECK_EQ(plat_sock_connect("256.1.1.1", 80, &s, WAIT), -ERR_INVAL);
}

int main(void)
{
	check_begin("plat_sock_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: plat_sock_test/init: plat_hosted_init failed\n");
		return 1;
	}
	RUN(send_recv_both_ways);
	RUN(timeouts);
	RUN(peer_close_gives_eof_then_send_fails);
	RUN(refused_and_in_use);
	return check_done();
}
