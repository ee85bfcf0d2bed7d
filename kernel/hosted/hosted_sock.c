/* hosted_sock.c — IPv4 TCP for the hosted platform: blocking sockets whose
 * waits are bounded by poll(), TCP_NODELAY on every connection (the core
 * frames its own messages), MSG_NOSIGNAL so a dead peer is an error, not a
 * SIGPIPE. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hosted.h"

struct plat_sock {
	int fd;
};

static int sock_addr(const char *host, uint16_t port, struct sockaddr_in *sa)
{
	if (host == NULL)
		return -ERR_INVAL;
	*sa = (struct sockaddr_in){ .sin_family = AF_INET,
				    .sin_port = htons(port) };
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -ERR_INVAL;   /* not a dotted IPv4 address */
	return 0;
}

static int sock_wrap(int fd, plat_sock **out)
{
	struct plat_sock *s = malloc(sizeof *s);
	if (s == NULL) {
		close(fd);
		return -ERR_NOMEM;
	}
	s->fd = fd;
	*out = s;
	return 0;
}

/* What is left of timeout_ns (UINT64_MAX = forever) since start. */
static uint64_t sock_left(uint64_t start, uint64_t timeout_ns)
{
	if (timeout_ns == UINT64_MAX)
		return UINT64_MAX;
	uint64_t spent = hosted_monotonic_ns() - start;
	return spent >= timeout_ns ? 0 : timeout_ns - spent;
}

static void sock_nodelay(int fd)
{
	int one = 1;
	/* Only latency is at stake if this fails. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int hosted_sock_listen(const char *host, uint16_t port, plat_sock **out)
{
	struct sockaddr_in sa;
	int rc = out == NULL ? -ERR_INVAL : sock_addr(host, port, &sa);
	if (rc != 0)
		return rc;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hosted_err(errno);
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(fd, 64) != 0) {
		rc = hosted_err(errno);
		close(fd);
		return rc;
	}
	return sock_wrap(fd, out);
}

int hosted_sock_accept(plat_sock *ls, plat_sock **out, uint64_t timeout_ns)
{
	if (ls == NULL || out == NULL)
		return -ERR_INVAL;
	uint64_t start = hosted_monotonic_ns();
	for (;;) {
		int rc = hosted_poll(ls->fd, POLLIN, sock_left(start, timeout_ns));
		if (rc == 0)
			return -ERR_TIMEDOUT;
		if (rc < 0)
			return rc;
		int fd = accept4(ls->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			sock_nodelay(fd);
			return sock_wrap(fd, out);
		}
		/* The pending connection went away before we took it. */
		if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
			continue;
		return hosted_err(errno);
	}
}

int hosted_sock_connect(const char *host, uint16_t port, plat_sock **out,
			uint64_t timeout_ns)
{
	struct sockaddr_in sa;
	int rc = out == NULL ? -ERR_INVAL : sock_addr(host, port, &sa);
	if (rc != 0)
		return rc;
	/* Non-blocking only while connecting, so the wait is bounded. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return hosted_err(errno);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (errno != EINPROGRESS) {
			rc = hosted_err(errno);
			goto err;
		}
		rc = hosted_poll(fd, POLLOUT, timeout_ns);
		if (rc == 0)
			rc = -ERR_TIMEDOUT;
		if (rc < 0)
			goto err;
		int soerr = 0;
		socklen_t n = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &n) != 0)
			soerr = errno;
		if (soerr != 0) {
			rc = hosted_err(soerr);
			goto err;
		}
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		rc = hosted_err(errno);
		goto err;
	}
	sock_nodelay(fd);
	return sock_wrap(fd, out);
err:
	close(fd);
	return rc;
}

long hosted_sock_recv(plat_sock *s, void *buf, size_t len, uint64_t timeout_ns)
{
	/* len 0 is refused: its 0 would read as end of stream. */
	if (s == NULL || buf == NULL || len == 0)
		return -ERR_INVAL;
	uint64_t start = hosted_monotonic_ns();
	for (;;) {
		int rc = hosted_poll(s->fd, POLLIN, sock_left(start, timeout_ns));
		if (rc == 0)
			return -ERR_TIMEDOUT;
		if (rc < 0)
			return rc;
		/* MSG_DONTWAIT: poll said readable, but never block past the
		 * timeout if another reader took the data first. */
		ssize_t n = recv(s->fd, buf, len, MSG_DONTWAIT);
		if (n >= 0)
			return (long)n;
		if (errno == EINTR || errno == EAGAIN)
			continue;
		return hosted_err(errno);
	}
}

int hosted_sock_send(plat_sock *s, const void *buf, size_t len)
{
	if (s == NULL || (buf == NULL && len != 0))
		return -ERR_INVAL;
	const char *p = buf;
	while (len > 0) {
		ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hosted_err(errno);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int hosted_sock_port(plat_sock *s)
{
	if (s == NULL)
		return -ERR_INVAL;
	struct sockaddr_in sa;
	socklen_t n = sizeof sa;
	if (getsockname(s->fd, (struct sockaddr *)&sa, &n) != 0)
		return hosted_err(errno);
	return ntohs(sa.sin_port);
}

void hosted_sock_close(plat_sock *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	free(s);
}
