/* printf.c — kernel libc: the formatter behind snprintf/fprintf. Output goes
 * through a sink: a bounded buffer (snprintf) or 128-byte chunks flushed to
 * the console hook (fprintf, printf). Integers only: there is no FPU here. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "klibc_internal.h"

struct sink {
	char *buf;    /* NULL: console chunks */
	size_t size;  /* capacity of buf, including the NUL */
	size_t len;   /* characters produced so far (may exceed size) */
	char chunk[128];
	size_t fill;
};

struct klibc_file { int unused; };
static struct klibc_file console_file;
FILE *const stdout = &console_file;
FILE *const stderr = &console_file;

static void put(struct sink *k, char c)
{
	if (k->buf) {
		if (k->len + 1 < k->size)
			k->buf[k->len] = c;
	} else {
		k->chunk[k->fill++] = c;
		if (k->fill == sizeof k->chunk) {
			klibc_console(k->chunk, k->fill);
			k->fill = 0;
		}
	}
	k->len++;
}

static void pad(struct sink *k, char c, int n)
{
	while (n-- > 0)
		put(k, c);
}

/* One integer conversion. prec < 0: none given. */
static void put_int(struct sink *k, uint64_t v, int neg, unsigned base,
		    int upper, int width, int prec, int left, int zero,
		    char sign, int alt)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, nz, total;
	const char *prefix = "";

	while (v) {
		tmp[n++] = digits[v % base];
		v /= base;
	}
	if (prec < 0)
		prec = 1;
	else
		zero = 0; /* C: a precision overrides the 0 flag */
	if (alt && base == 16 && n)
		prefix = upper ? "0X" : "0x";
	if (alt && base == 8 && prec <= n)
		prec = n + 1;
	nz = prec > n ? prec - n : 0;
	total = n + nz + (neg || sign) + (int)strlen(prefix);
	if (!left && !zero)
		pad(k, ' ', width - total);
	if (neg)
		put(k, '-');
	else if (sign)
		put(k, sign);
	while (*prefix)
		put(k, *prefix++);
	if (!left && zero)
		pad(k, '0', width - total);
	pad(k, '0', nz);
	while (n)
		put(k, tmp[--n]);
	if (left)
		pad(k, ' ', width - total);
}

static void format(struct sink *k, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int left = 0, zero = 0, alt = 0, width = 0, prec = -1, lng = 0;
		char sign = 0, c;

		if (*fmt != '%') {
			put(k, *fmt);
			continue;
		}
		for (;; fmt++) {
			c = fmt[1];
			if (c == '-') left = 1;
			else if (c == '0') zero = 1;
			else if (c == '+') sign = '+';
			else if (c == ' ') { if (!sign) sign = ' '; }
			else if (c == '#') alt = 1;
			else break;
		}
		fmt++;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			fmt++;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		if (*fmt == '.') {
			prec = 0;
			if (*++fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			for (; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + (*fmt - '0');
		}
		/* lng: -2 hh, -1 h, 0 int, 1 long (also ll z t j on LP64) */
		for (;; fmt++) {
			if (*fmt == 'h') lng--;
			else if (*fmt == 'l' || *fmt == 'z' || *fmt == 't' || *fmt == 'j') lng = 1;
			else break;
		}
		switch ((c = *fmt)) {
		case 'd': case 'i': {
			int64_t v = lng > 0 ? va_arg(ap, long) : va_arg(ap, int);
			if (lng == -1) v = (short)v;
			if (lng <= -2) v = (signed char)v;
			put_int(k, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, 0,
				width, prec, left, zero, sign, 0);
			break;
		}
		case 'u': case 'x': case 'X': case 'o': {
			uint64_t v = lng > 0 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			if (lng == -1) v = (unsigned short)v;
			if (lng <= -2) v = (unsigned char)v;
			put_int(k, v, 0, c == 'o' ? 8 : c == 'u' ? 10 : 16, c == 'X',
				width, prec, left, zero, 0, alt);
			break;
		}
		case 'p':
			put_int(k, (uintptr_t)va_arg(ap, void *), 0, 16, 0, width,
				-1, left, 0, 0, 1);
			break;
		case 'c':
			if (!left) pad(k, ' ', width - 1);
			put(k, (char)va_arg(ap, int));
			if (left) pad(k, ' ', width - 1);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n;
			if (!s) s = "(null)";
			n = (int)(prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
			if (!left) pad(k, ' ', width - n);
			for (int i = 0; i < n; i++) put(k, s[i]);
			if (left) pad(k, ' ', width - n);
			break;
		}
		case '%':
			put(k, '%');
			break;
		case 'e': case 'f': case 'g': case 'E': case 'F': case 'G': case 'a': case 'A':
			/* Doubles travel in SSE registers, which this libc
			 * never touches: print '?' and leave the argument. */
			put(k, '?');
			break;
		case 0:
			return;
		default: /* unknown: echo it, so the bug is visible */
			put(k, '%');
			put(k, c);
		}
	}
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	struct sink k = { .buf = buf, .size = size };

	if (size == 0)
		k.buf = (char *)""; /* count only: put() never writes when size is 0 */
	format(&k, fmt, ap);
	if (size)
		buf[k.len < size ? k.len : size - 1] = 0;
	return k.len > INT32_MAX ? -1 : (int)k.len;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int sprintf(char *restrict buf, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, SIZE_MAX / 2, fmt, ap);
	va_end(ap);
	return n;
}

int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	struct sink k = { .buf = NULL };

	(void)f; /* stdout and stderr are both the console */
	format(&k, fmt, ap);
	if (k.fill)
		klibc_console(k.chunk, k.fill);
	return k.len > INT32_MAX ? -1 : (int)k.len;
}

int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

int fputs(const char *restrict s, FILE *restrict f)
{
	(void)f;
	klibc_console(s, strlen(s));
	return 0;
}

int puts(const char *s)
{
	klibc_console(s, strlen(s));
	klibc_console("\n", 1);
	return 0;
}

int fflush(FILE *f)
{
	(void)f; /* vfprintf flushes before returning */
	return 0;
}
