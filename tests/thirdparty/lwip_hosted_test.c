/* lwip_hosted_test.c — runs the kernel's lwIP objects (NO_SYS=0, our
 * sys_arch over plat.h) on the hosted platform's real threads: sys_arch's
 * semaphores and mailboxes (timeouts, full boxes), then tcpip_init and a TCP
 * echo over lwIP's loopback netif through the lwip_* socket API, with a
 * receive timeout (errno per thread). Linked -no-pie with libphantom.a. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/sockets.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#include "check.h"

/* kernel/hosted (plat.h itself cannot meet lwIP's err.h: ERR_OK...). */
int plat_hosted_init(void);

/* The kernel libc's errno hook, as the lwIP objects name it: glibc's
 * thread-local errno. */
int *klibc_errno_location(void) { return &errno; }
void klibc_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "%s:%d: %s: assertion '%s' failed\n", file, line, func, expr);
	abort();
}

#define PORT 7777
#define LEN  (256 * 1024)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

TEST(sys_arch_sem_and_mbox)
{
	sys_sem_t sem;
	sys_mbox_t box;
	void *msg = NULL;
	uint64_t t0;
	u32_t r;

	CHECK(sys_sem_new(&sem, 1) == ERR_OK && sys_sem_valid(&sem));
	CHECK(sys_arch_sem_wait(&sem, 100) != SYS_ARCH_TIMEOUT);
	t0 = now_ms();
	r = sys_arch_sem_wait(&sem, 60);
	CHECKF(r == SYS_ARCH_TIMEOUT && now_ms() - t0 >= 55, "r=%u after %llu ms", r,
	       (unsigned long long)(now_ms() - t0));
	sys_sem_signal(&sem);
	CHECK(sys_arch_sem_wait(&sem, 0) != SYS_ARCH_TIMEOUT);
	sys_sem_free(&sem);
	CHECK(!sys_sem_valid(&sem));

	CHECK(sys_mbox_new(&box, 2) == ERR_OK);
	CHECK(sys_mbox_trypost(&box, (void *)1) == ERR_OK);
	CHECK(sys_mbox_trypost(&box, (void *)2) == ERR_OK);
	CHECK(sys_mbox_trypost(&box, (void *)3) == ERR_MEM); /* full */
	CHECK(sys_arch_mbox_fetch(&box, &msg, 10) != SYS_ARCH_TIMEOUT && msg == (void *)1);
	CHECK(sys_mbox_trypost(&box, (void *)3) == ERR_OK); /* wraps the ring */
	CHECK(sys_arch_mbox_tryfetch(&box, &msg) == 0 && msg == (void *)2);
	CHECK(sys_arch_mbox_fetch(&box, &msg, 0) != SYS_ARCH_TIMEOUT && msg == (void *)3);
	CHECK(sys_arch_mbox_tryfetch(&box, &msg) == SYS_MBOX_EMPTY);
	t0 = now_ms();
	CHECK(sys_arch_mbox_fetch(&box, &msg, 50) == SYS_ARCH_TIMEOUT && now_ms() - t0 >= 45);
	sys_mbox_free(&box);
}

static void tcpip_ready(void *arg) { sys_sem_signal((sys_sem_t *)arg); }

struct server {
	sys_sem_t listening, done;
	int ok;
	char why[128];
};

/* Accepts one connection and echoes everything until the peer closes. */
static void echo_server(void *arg)
{
	struct server *sv = arg;
	struct sockaddr_in a = { .sin_len = sizeof a, .sin_family = AF_INET,
				 .sin_port = lwip_htons(PORT) };
	static char buf[8192];
	int ls, s;

	a.sin_addr.s_addr = lwip_htonl(0x7f000001);
	ls = lwip_socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || lwip_bind(ls, (struct sockaddr *)&a, sizeof a) != 0 ||
	    lwip_listen(ls, 1) != 0) {
		snprintf(sv->why, sizeof sv->why, "listen: errno %d", errno);
		sys_sem_signal(&sv->listening);
		sys_sem_signal(&sv->done);
		return;
	}
	sys_sem_signal(&sv->listening);
	s = lwip_accept(ls, NULL, NULL);
	if (s < 0) {
		snprintf(sv->why, sizeof sv->why, "accept: errno %d", errno);
	} else {
		ssize_t n;
		while ((n = lwip_recv(s, buf, sizeof buf, 0)) > 0)
			if (lwip_send(s, buf, (size_t)n, 0) != n)
				break;
		sv->ok = n == 0;
		if (!sv->ok)
			snprintf(sv->why, sizeof sv->why, "echo: n=%zd errno %d", n, errno);
		lwip_close(s);
	}
	lwip_close(ls);
	sys_sem_signal(&sv->done);
}

TEST(tcpip_thread_and_tcp_echo_over_loopback)
{
	static unsigned char out[LEN], back[LEN];
	struct server sv = { .ok = 0 };
	struct sockaddr_in a = { .sin_len = sizeof a, .sin_family = AF_INET,
				 .sin_port = lwip_htons(PORT) };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	sys_sem_t ready;
	size_t got = 0, sent = 0;
	uint64_t t0, deadline;
	ssize_t n;
	int s, e;

	CHECK(sys_sem_new(&ready, 0) == ERR_OK);
	tcpip_init(tcpip_ready, &ready);
	CHECKF(sys_arch_sem_wait(&ready, 5000) != SYS_ARCH_TIMEOUT, "tcpip thread did not start");
	CHECK(sys_sem_new(&sv.listening, 0) == ERR_OK && sys_sem_new(&sv.done, 0) == ERR_OK);
	sys_thread_new("echo", echo_server, &sv, 0, 0);
	CHECK(sys_arch_sem_wait(&sv.listening, 5000) != SYS_ARCH_TIMEOUT);

	for (size_t i = 0; i < LEN; i++)
		out[i] = (unsigned char)(i * 31 + (i >> 11));
	a.sin_addr.s_addr = lwip_htonl(0x7f000001);
	s = lwip_socket(AF_INET, SOCK_STREAM, 0);
	CHECKF(s >= 0, "socket: errno %d", errno);
	CHECKF(lwip_connect(s, (struct sockaddr *)&a, sizeof a) == 0, "connect: errno %d", errno);
	CHECK(lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
	/* Interleave so neither side's window fills while the other waits. */
	deadline = now_ms() + 5000;
	while (got < LEN) {
		if (sent < LEN) {
			size_t chunk = LEN - sent < 16384 ? LEN - sent : 16384;
			n = lwip_send(s, out + sent, chunk, 0);
			CHECKF(n > 0, "send: errno %d", errno);
			sent += (size_t)n;
		}
		n = lwip_recv(s, back + got, LEN - got, 0);
		/* A short tail can sit behind Nagle and a delayed ACK (lwIP's
		 * 250 ms TCP timer): wait for it, within a bound. */
		if (n < 0 && errno == EWOULDBLOCK && (sent < LEN || now_ms() < deadline))
			continue;
		CHECKF(n > 0, "recv at %zu/%zu: n=%zd errno %d", got, sent, n, errno);
		got += (size_t)n;
	}
	CHECK(memcmp(out, back, LEN) == 0);

	/* Nothing more to read: the receive timeout must fire, per thread. */
	errno = 0;
	t0 = now_ms();
	n = lwip_recv(s, back, 1, 0);
	e = errno;
	CHECKF(n < 0 && e == EWOULDBLOCK && now_ms() - t0 >= 90,
	       "idle recv: n=%zd errno %d after %llu ms", n, e, (unsigned long long)(now_ms() - t0));
	CHECK(lwip_close(s) == 0);
	CHECK(sys_arch_sem_wait(&sv.done, 5000) != SYS_ARCH_TIMEOUT);
	CHECKF(sv.ok, "server: %s", sv.why);
	/* A closed descriptor is refused with EBADF, not a crash. */
	CHECK(lwip_send(s, out, 1, 0) < 0 && errno == EBADF);
}

/* Sends until a send times out: the peer's receive window is then zero. */
static size_t fill(int s)
{
	static char junk[4096];
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	size_t total = 0;
	ssize_t n;

	lwip_setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	while ((n = lwip_send(s, junk, sizeof junk, 0)) > 0)
		total += (size_t)n;
	return total;
}

struct filler {
	sys_sem_t listening, full, go;
	size_t sent;
};

/* Accepts one connection, fills it without reading, then (told to) reads. */
static void fill_server(void *arg)
{
	struct filler *f = arg;
	struct sockaddr_in a = { .sin_len = sizeof a, .sin_family = AF_INET,
				 .sin_port = lwip_htons(PORT + 1) };
	static char buf[4096];
	int ls, s;

	a.sin_addr.s_addr = lwip_htonl(0x7f000001);
	ls = lwip_socket(AF_INET, SOCK_STREAM, 0);
	lwip_bind(ls, (struct sockaddr *)&a, sizeof a);
	lwip_listen(ls, 1);
	sys_sem_signal(&f->listening);
	s = lwip_accept(ls, NULL, NULL);
	f->sent = fill(s);
	sys_sem_signal(&f->full);
	sys_arch_sem_wait(&f->go, 0);
	while (lwip_recv(s, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
	lwip_close(s);
	lwip_close(ls);
}

static void stuck(int sig)
{
	(void)sig;
	static const char msg[] = "FAIL: lwip_hosted_test/both_windows_zero_stay_quiet: "
				  "the stack stopped answering (ACK storm?)\n";
	(void)!write(1, msg, sizeof msg - 1);
	_exit(1);
}

/* Both ends send and neither reads, so both receive windows close. Each
 * side's zero-window probe is answered with an ACK; lwIP 2.1.3 answered
 * that ACK too (its sequence number is at rcv_nxt, but "outside" a zero
 * window), and over loopback the two ACKed each other for ever with the
 * core lock held (deploy/patches/lwip). The stack must still answer a
 * call after the persist timer has run. Runs after the echo test, whose
 * tcpip thread it reuses. */
TEST(both_windows_zero_stay_quiet)
{
	struct filler f;
	struct sockaddr_in a = { .sin_len = sizeof a, .sin_family = AF_INET,
				 .sin_port = lwip_htons(PORT + 1) };
	char c;
	int s;

	/* A storm holds the core lock, so a stuck call never returns: the
	 * alarm ends the test instead (armed before the windows can close). */
	signal(SIGALRM, stuck);
	alarm(20);
	CHECK(sys_sem_new(&f.listening, 0) == ERR_OK && sys_sem_new(&f.full, 0) == ERR_OK &&
	      sys_sem_new(&f.go, 0) == ERR_OK);
	sys_thread_new("filler", fill_server, &f, 0, 0);
	CHECK(sys_arch_sem_wait(&f.listening, 5000) != SYS_ARCH_TIMEOUT);
	a.sin_addr.s_addr = lwip_htonl(0x7f000001);
	s = lwip_socket(AF_INET, SOCK_STREAM, 0);
	CHECKF(s >= 0 && lwip_connect(s, (struct sockaddr *)&a, sizeof a) == 0,
	       "connect: errno %d", errno);
	size_t mine = fill(s);
	CHECK(sys_arch_sem_wait(&f.full, 5000) != SYS_ARCH_TIMEOUT);
	CHECKF(mine > 0 && f.sent > 0, "sent %zu and %zu", mine, f.sent);
	/* The persist timer probes a zero window after about 1.5 s. */
	sys_msleep(3000);
	CHECK(lwip_recv(s, &c, 1, MSG_DONTWAIT) == 1);
	alarm(0);
	sys_sem_signal(&f.go);
	lwip_close(s);
}

int main(void)
{
	check_begin("lwip_hosted_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: lwip_hosted_test/setup: plat_hosted_init\n");
		return 1;
	}
	RUN(sys_arch_sem_and_mbox);
	RUN(tcpip_thread_and_tcp_echo_over_loopback);
	RUN(both_windows_zero_stay_quiet);
	return check_done();
}
