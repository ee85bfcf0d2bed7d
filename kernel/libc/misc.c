/* misc.c — kernel libc: the hook table and what runs through it (errno,
 * abort, assert, clock_gettime, console), plus getenv, number parsing and
 * qsort. */
#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "klibc_internal.h"

static int global_errno;

static int *default_errno(void) { return &global_errno; }

__attribute__((noreturn)) static void default_abort(const char *why)
{
	(void)why;
	for (;;)
		__builtin_trap();
}

struct klibc_hooks klibc_hooks_ = {
	.abort = default_abort,
	.errno_location = default_errno,
};

void klibc_set_hooks(const struct klibc_hooks *h)
{
	klibc_hooks_.console_write = h->console_write;
	klibc_hooks_.abort = h->abort ? h->abort : default_abort;
	klibc_hooks_.clock_ns = h->clock_ns;
	klibc_hooks_.heap_lock = h->heap_lock;
	klibc_hooks_.heap_unlock = h->heap_unlock;
	klibc_hooks_.errno_location = h->errno_location ? h->errno_location : default_errno;
}

int *klibc_errno_location(void) { return klibc_hooks_.errno_location(); }

void klibc_heap_lock(void)
{
	if (klibc_hooks_.heap_lock)
		klibc_hooks_.heap_lock();
}

void klibc_heap_unlock(void)
{
	if (klibc_hooks_.heap_unlock)
		klibc_hooks_.heap_unlock();
}

void klibc_console(const char *s, size_t len)
{
	if (klibc_hooks_.console_write && len)
		klibc_hooks_.console_write(s, len);
}

void klibc_fatal(const char *why)
{
	klibc_console("klibc: ", 7);
	klibc_console(why, strlen(why));
	klibc_console("\n", 1);
	klibc_hooks_.abort(why);
}

void abort(void) { klibc_fatal("abort() called"); }

void klibc_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	static char msg[256];

	snprintf(msg, sizeof msg, "%s:%d: %s: assertion '%s' failed", file, line, func, expr);
	klibc_fatal(msg);
}

/* glibc's program name; raft's convert.c compares it with "unit-test". */
char *__progname = "phantom-kernel";

char *getenv(const char *name)
{
	(void)name; /* the kernel has no environment */
	return NULL;
}

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	uint64_t ns = 0;

	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC) {
		errno_set(EINVAL);
		return -1;
	}
	if (klibc_hooks_.clock_ns && klibc_hooks_.clock_ns(clk, &ns) != 0) {
		errno_set(EINVAL);
		return -1;
	}
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
	return 0;
}

/* strtoull's core: base 0 detects 0x / 0 prefixes; saturates on overflow. */
static unsigned long long parse_unsigned(const char *s, char **end, int base, int *neg)
{
	unsigned long long v = 0;
	const char *orig = s, *start;
	int over = 0;

	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	*neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] | 32) == 'x' &&
	    ((s[2] >= '0' && s[2] <= '9') || ((s[2] | 32) >= 'a' && (s[2] | 32) <= 'f'))) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	for (start = s;; s++) {
		int d;
		if (*s >= '0' && *s <= '9') d = *s - '0';
		else if ((*s | 32) >= 'a' && (*s | 32) <= 'z') d = (*s | 32) - 'a' + 10;
		else break;
		if (d >= base)
			break;
		if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
			over = 1;
		v = v * (unsigned)base + (unsigned)d;
	}
	if (end)
		*end = (char *)(s == start ? orig : s); /* no digits: nothing parsed */
	if (over) {
		errno_set(ERANGE);
		return ULLONG_MAX;
	}
	return v;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
	int neg;
	unsigned long long v = parse_unsigned(s, end, base, &neg);

	return neg ? -v : v;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	return (unsigned long)strtoull(s, end, base);
}

long strtol(const char *restrict s, char **restrict end, int base)
{
	int neg;
	unsigned long long v = parse_unsigned(s, end, base, &neg);

	if (!neg && v > LONG_MAX) {
		errno_set(ERANGE);
		return LONG_MAX;
	}
	if (neg && v > (unsigned long long)LONG_MAX + 1) {
		errno_set(ERANGE);
		return LONG_MIN;
	}
	return neg ? (long)(0 - v) : (long)v;
}

int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }

/* Shell sort: no recursion (kernel stacks are small), no allocation. */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *a = base;
	size_t gap, i, j, b;

	for (gap = n / 2; gap > 0; gap /= 2)
		for (i = gap; i < n; i++)
			for (j = i; j >= gap && cmp(a + (j - gap) * size, a + j * size) > 0; j -= gap)
				for (b = 0; b < size; b++) {
					unsigned char t = a[(j - gap) * size + b];
					a[(j - gap) * size + b] = a[j * size + b];
					a[j * size + b] = t;
				}
}
