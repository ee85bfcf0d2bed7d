/* string.c — kernel libc: memory and string functions. Byte loops on
 * purpose: built with -fno-tree-loop-distribute-patterns so gcc cannot turn
 * them back into calls to memcpy/memset (themselves). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	/* Word copies when both pointers share alignment; bytes otherwise. */
	if ((((uintptr_t)dp ^ (uintptr_t)sp) & 7) == 0) {
		while (n && ((uintptr_t)dp & 7)) {
			*dp++ = *sp++;
			n--;
		}
		for (; n >= 8; n -= 8, dp += 8, sp += 8)
			*(uint64_t *)(void *)dp = *(const uint64_t *)(const void *)sp;
	}
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp == sp || n == 0)
		return d;
	if (dp < sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;
	uint64_t w = (unsigned char)c * 0x0101010101010101ull;

	while (n && ((uintptr_t)dp & 7)) {
		*dp++ = (unsigned char)c;
		n--;
	}
	for (; n >= 8; n -= 8, dp += 8)
		*(uint64_t *)(void *)dp = w;
	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strcpy(char *restrict d, const char *restrict s)
{
	char *r = d;

	while ((*d++ = *s++))
		;
	return r;
}

/* Pads with NULs to n, and leaves d unterminated when s is n or longer. */
char *strncpy(char *restrict d, const char *restrict s, size_t n)
{
	size_t i = 0;

	for (; i < n && s[i]; i++)
		d[i] = s[i];
	for (; i < n; i++)
		d[i] = 0;
	return d;
}

char *strcat(char *restrict d, const char *restrict s)
{
	strcpy(d + strlen(d), s);
	return d;
}

char *strncat(char *restrict d, const char *restrict s, size_t n)
{
	char *p = d + strlen(d);

	while (n-- && *s)
		*p++ = *s++;
	*p = 0;
	return d;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return (char *)hay;
	return n ? NULL : (char *)hay;
}

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	return d ? memcpy(d, s, n) : NULL;
}

char *strerror(int err)
{
	static char buf[24];
	int i = sizeof buf - 1;
	unsigned v = err < 0 ? -(unsigned)err : (unsigned)err;

	/* No message table: "error N" is enough for the kernel's logs. */
	buf[i] = 0;
	do
		buf[--i] = (char)('0' + v % 10);
	while ((v /= 10) && i > 7);
	if (err < 0)
		buf[--i] = '-';
	memcpy(buf + i - 6, "error ", 6);
	return buf + i - 6;
}
