/* console.h — the kernel console on COM1: formatted output that works from
 * any context (including the panic path: no allocation, no locks that a
 * faulting thread could hold) and polled line input. */
#ifndef X86_CONSOLE_H
#define X86_CONSOLE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void con_init(void);
void con_write(const char *s, size_t len);
/* A received byte, or -1 if none is waiting. */
int con_getc(void);
/* Input is a line discipline, as a terminal's cooked mode: typed bytes are
 * echoed, backspace edits, and Enter (CR, LF or CRLF) ends a line, which
 * only then becomes readable. One reader at a time. */
/* Reads one line (without its end) into buf; waits as needed. Returns its
 * length; a longer line is cut at len-1 bytes. */
size_t con_readline(char *buf, size_t len);
/* Up to len bytes of completed lines, each ending in '\n'; 0 when no line
 * is complete yet. Never waits. */
size_t con_read_lines(char *buf, size_t len);

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Formats into buf (always NUL-terminated when len > 0); returns the length
 * the ful output would have. */
int ksnprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
