/* klibc.h — the kernel libc's own interface: the heap region and the hooks
 * through which the libc reaches the kernel. Everything else in
 * kernel/libc/include is the standard subset lwIP, zstd, libsodium and raft use.
 *
 * Hooks (all optional; a NULL member keeps the default):
 *   console_write  stdout/stderr output of printf/fprintf/assert  default: dropped
 *   abort          abort() and failed assert()s; must not return default: ud2 trap
 *   clock_ns       clock_gettime(): fill *ns for CLOCK_MONOTONIC or
 *                  CLOCK_REALTIME, return 0, or -1 for an unknown clock
 *                                                                default: always 0 ns
 *   heap_lock/unlock  around every heap operation (a kernel mutex or irq
 *                  disable once threads exist)               default: none
 *   errno_location the calling thread's errno (lwIP's sockets need a
 *                  per-thread errno once NO_SYS=0 threads run) default: one global
 * klibc_set_hooks copies the table, so it may live on the caller's stack. */
#ifndef KLIBC_H
#define KLIBC_H

#include <stddef.h>
#include <stdint.h>

struct klibc_hooks {
	void (*console_write)(const char *s, size_t len);
	void (*abort)(const char *why) __attribute__((noreturn));
	int (*clock_ns)(int clock_id, uint64_t *ns);
	void (*heap_lock)(void);
	void (*heap_unlock)(void);
	int *(*errno_location)(void);
};

void klibc_set_hooks(const struct klibc_hooks *hooks);

/* Hands [base, base+len) to malloc. Call once before the first allocation;
 * a second call adds another region. Regions below 64 bytes are ignored. */
void klibc_heap_init(void *base, size_t len);

/* Heap statistics for tests and the kernel's memory report. */
struct klibc_heap_stats {
	size_t total;       /* bytes handed to klibc_heap_init       */
	size_t free;        /* bytes in free blocks (headers included) */
	size_t free_blocks; /* number of free blocks                   */
};
void klibc_heap_stats(struct klibc_heap_stats *st);

/* The program name glibc exports; raft reads it. */
extern char *__progname;

/* Internal entry points named by the standard headers' macros. */
int *klibc_errno_location(void);
void klibc_assert_fail(const char *expr, const char *file, int line,
		       const char *func) __attribute__((noreturn));

#endif
