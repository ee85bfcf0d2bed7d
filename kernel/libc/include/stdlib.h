/* stdlib.h — kernel libc: heap (kernel/libc/malloc.c), abort, conversions,
 * qsort and getenv (there is no environment: always NULL). */
#ifndef _STDLIB_H
#define _STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

void *malloc(size_t n);
void *calloc(size_t count, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **out, size_t align, size_t n);

void abort(void) __attribute__((noreturn));
char *getenv(const char *name);

int atoi(const char *s);
long strtol(const char *restrict s, char **restrict end, int base);
unsigned long strtoul(const char *restrict s, char **restrict end, int base);
unsigned long long strtoull(const char *restrict s, char **restrict end, int base);
int abs(int x);
long labs(long x);

void qsort(void *base, size_t n, size_t size,
	   int (*cmp)(const void *, const void *));

#endif
