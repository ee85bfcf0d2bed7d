/* stdio.h — kernel libc: formatted output only (kernel/libc/printf.c).
 * stdout and stderr both go to the console hook; there are no files.
 * Conversions: d i u x X o c s p %, flags - 0 + space #, width and precision
 * (also *), lengths hh h l ll z t j. No floating point (no FPU in the kernel
 * libc): %f and friends print "?". */
#ifndef _STDIO_H
#define _STDIO_H

#include <stdarg.h>
#include <stddef.h>

typedef struct klibc_file FILE;
extern FILE *const stdout;
extern FILE *const stderr;
#define stdout stdout
#define stderr stderr
#define EOF (-1)

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sprintf(char *restrict buf, const char *restrict fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
int fprintf(FILE *restrict f, const char *restrict fmt, ...)
	__attribute__((format(printf, 2, 3)));
int printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));
int fputs(const char *restrict s, FILE *restrict f);
int puts(const char *s);
int fflush(FILE *f);

#endif
