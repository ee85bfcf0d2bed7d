/* hosted_misc.c — the small pieces of the hosted platform: errno to err.h
 * codes, a poll() wait with a nanosecond timeout, entropy (getrandom), the
 * console (fd 1 out, fd 0 in) and halt. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "hosted.h"

int hosted_err(int errnum)
{
	switch (errnum) {
	case 0:                return -ERR_IO;  /* "failed" without a reason */
	case ENOMEM:           return -ERR_NOMEM;
	case ENOSPC:           return -ERR_NOMEM;
	case EINVAL:           return -ERR_INVAL;
	case EBADF:            return -ERR_INVAL;
	case EFAULT:           return -ERR_INVAL;
	case EISDIR:           return -ERR_INVAL;
	case ENOTDIR:          return -ERR_NOENT;
	case ENOENT:           return -ERR_NOENT;
	case ENODEV:           return -ERR_NOENT;
	case ENXIO:            return -ERR_NOENT;
	case EEXIST:           return -ERR_EXIST;
	case ETIMEDOUT:        return -ERR_TIMEDOUT;
	case EAGAIN:           return -ERR_AGAIN;
	case EINTR:            return -ERR_AGAIN;
	case ENOSYS:           return -ERR_NOTSUP;
	case EOPNOTSUPP:       return -ERR_NOTSUP;
	case ENETUNREACH:      return -ERR_NONET;
	case ENETDOWN:         return -ERR_NONET;
	case EHOSTUNREACH:     return -ERR_NONET;
	case EADDRNOTAVAIL:    return -ERR_NONET;
	case ECONNREFUSED:     return -ERR_CONNREFUSED;
	case ECONNRESET:       return -ERR_CLOSED;
	case ECONNABORTED:     return -ERR_CLOSED;
	case EPIPE:            return -ERR_CLOSED;
	case ENOTCONN:         return -ERR_CLOSED;
	case EADDRINUSE:       return -ERR_ADDRINUSE;
	case ERANGE:           return -ERR_RANGE;
	case EFBIG:            return -ERR_RANGE;
	case EOVERFLOW:        return -ERR_RANGE;
	case EBUSY:            return -ERR_BUSY;
	case ETXTBSY:          return -ERR_BUSY;
	default:               return -ERR_IO;
	}
}

int hosted_poll(int fd, short events, uint64_t timeout_ns)
{
	bool forever = timeout_ns == UINT64_MAX;
	uint64_t now = hosted_monotonic_ns();
	uint64_t until = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
	for (;;) {
		int ms = -1;
		if (!forever) {
			uint64_t left = until > now ? until - now : 0;
			uint64_t lms = (left + 999999u) / 1000000u;  /* round up */
			ms = lms > INT_MAX ? INT_MAX : (int)lms;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, ms);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return hosted_err(errno);
		now = hosted_monotonic_ns();
		if (!forever && now >= until)
			return 0;
	}
}

int hosted_entropy(void *buf, size_t len)
{
	if (buf == NULL && len != 0)
		return -ERR_INVAL;
	char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hosted_err(errno);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes everything to fd, waiting out a non-blocking fd. */
static void misc_write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			hosted_poll(fd, POLLOUT, UINT64_MAX);
			continue;
		}
		if (n <= 0)
			return;     /* stdout is gone; nowhere to report it */
		s += n;
		len -= (size_t)n;
	}
}

void hosted_console_write(const char *s, size_t len)
{
	if (s != NULL)
		misc_write_all(1, s, len);
}

int hosted_console_read(char *buf, size_t len, uint64_t timeout_ns)
{
	if (buf == NULL || len == 0)
		return -ERR_INVAL;
	if (len > INT_MAX)
		len = INT_MAX;
	uint64_t start = hosted_monotonic_ns();
	for (;;) {
		uint64_t spent = hosted_monotonic_ns() - start;
		uint64_t left = timeout_ns == UINT64_MAX ? UINT64_MAX :
				spent >= timeout_ns ? 0 : timeout_ns - spent;
		int rc = hosted_poll(0, POLLIN, left);
		if (rc <= 0)
			return rc;
		ssize_t n = read(0, buf, len);
		if (n > 0)
			return (int)n;
		if (n == 0)
			return -ERR_CLOSED;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {   /* spurious wakeup on non-blocking stdin */
			if (left == 0)
				return 0;
			continue;
		}
		return hosted_err(errno);
	}
}

void hosted_halt(const char *why)
{
	static const char head[] = "panic: ";
	if (why == NULL)
		why = "(no reason given)";
	misc_write_all(2, head, sizeof head - 1);
	misc_write_all(2, why, strlen(why));
	misc_write_all(2, "\n", 1);
	abort();
}
