/* klibc_internal.h — kernel libc: what its files share (the installed hooks),
 * not visible to the libraries that use the libc. */
#ifndef KLIBC_INTERNAL_H
#define KLIBC_INTERNAL_H

#include <errno.h>

#include "klibc.h"

extern struct klibc_hooks klibc_hooks_;

void klibc_heap_lock(void);
void klibc_heap_unlock(void);
void klibc_console(const char *s, size_t len);
void klibc_fatal(const char *why) __attribute__((noreturn));

#define errno_set(e) (errno = (e))

#endif
