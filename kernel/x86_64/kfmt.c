/* kfmt.c — the kernel's own printf formatter, independent of the libc so the
 * panic path needs nothing but a byte sink. Conversions: d i u x X p s c %,
 * flags 0 and -, a width, lengths l ll z. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kfmt.h"

static void emit_pad(kfmt_sink sink, void *ctx, char c, int n)
{
	while (n-- > 0)
		sink(ctx, c);
}

static void emit_num(kfmt_sink sink, void *ctx, uint64_t v, unsigned base,
		     bool upper, bool neg, int width, bool zero, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	int len = n + (neg ? 1 : 0);
	if (!left && !zero)
		emit_pad(sink, ctx, ' ', width - len);
	if (neg)
		sink(ctx, '-');
	if (!left && zero)
		emit_pad(sink, ctx, '0', width - len);
	while (n > 0)
		sink(ctx, tmp[--n]);
	if (left)
		emit_pad(sink, ctx, ' ', width - len);
}

void kfmt(kfmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink(ctx, *fmt);
			continue;
		}
		fmt++;
		bool zero = false, left = false;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		int width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int lng = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		uint64_t u;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
			emit_num(sink, ctx, u, 10, false, s < 0, width, zero, left);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			emit_num(sink, ctx, u, *fmt == 'u' ? 10 : 16, *fmt == 'X',
				 false, width, zero, left);
			break;
		case 'p':
			sink(ctx, '0');
			sink(ctx, 'x');
			emit_num(sink, ctx, (uint64_t)va_arg(ap, void *), 16, false,
				 false, 16, true, false);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			int n = 0;
			while (s[n])
				n++;
			if (!left)
				emit_pad(sink, ctx, ' ', width - n);
			for (int i = 0; i < n; i++)
				sink(ctx, s[i]);
			if (left)
				emit_pad(sink, ctx, ' ', width - n);
			break;
		}
		case 'c':
			sink(ctx, (char)va_arg(ap, int));
			break;
		case '%':
			sink(ctx, '%');
			break;
		case '\0':
			return;
		default:
			sink(ctx, '%');
			sink(ctx, *fmt);
			break;
		}
	}
}
