/* kfmt.h — the kernel's libc-independent printf core (kfmt.c). */
#ifndef X86_KFMT_H
#define X86_KFMT_H

#include <stdarg.h>

typedef void (*kfmt_sink)(void *ctx, char c);
void kfmt(kfmt_sink sink, void *ctx, const char *fmt, va_list ap);

#endif
