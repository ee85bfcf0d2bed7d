/* hosted.h — the hosted (Linux process) platform: plat_hosted_init() installs
 * plat_hosted_ops, and the kernel/hosted/ files share their internal entry
 * points and helpers here. Only hosted programs and kernel/hosted/ include it. */
#ifndef PHANTOM_HOSTED_H
#define PHANTOM_HOSTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plat.h"

/* Installs the hosted platform: ignores SIGPIPE, gives the calling thread an
 * alternate signal stack, installs the SIGSEGV handler that feeds the arena
 * fault hook, and plat_install()s plat_hosted_ops. Idempotent. 0 or -ERR_x. */
int plat_hosted_init(void);

extern const struct plat_ops plat_hosted_ops;

/* errno value -> negative err_code (hosted_misc.c). */
int hosted_err(int errnum);

/* Waits until fd is ready for events or timeout_ns passes (UINT64_MAX =
 * forever, 0 = just look). 1 ready (including error/hangup), 0 timed out,
 * or -ERR_x. Restarts on EINTR with the remaining time (hosted_misc.c). */
int hosted_poll(int fd, short events, uint64_t timeout_ns);

/* hosted_fault.c. altstack_push gives the calling thread an alternate signal
 * stack (so the fault hook runs even when the thread's own stack overflowed),
 * altstack_pop frees it; fault_install sets the SIGSEGV handler; the arena
 * publishes its range to the handler with fault_set_range. */
int hosted_altstack_push(void);
void hosted_altstack_pop(void);
int hosted_fault_install(void);
void hosted_fault_set_range(uintptr_t lo, uintptr_t hi);
/* Arena calls report OS failures here; inside the hook they make the fault
 * fatal (see hosted_fault.c). */
void hosted_fault_note_error(int errnum);
/* The exit status of a process whose arena fault the hook could not
 * resolve (after a message on stderr); phantomd's "runtime failure". */
#define HOSTED_EXIT_ARENA_FAULT 3

/* hosted_arena.c */
int hosted_arena_reserve(uint64_t size, void **base);
int hosted_arena_release(void);
int hosted_mem_protect(void *addr, size_t len, enum plat_prot prot);
int hosted_mem_discard(void *addr, size_t len);
int hosted_page_fill(void *addr, const void *src, enum plat_prot prot);
int hosted_set_fault_handler(plat_fault_fn fn, void *ctx);   /* fault.c */

/* hosted_thread.c */
int hosted_thread_create(plat_thread **t, plat_thread_fn fn, void *arg,
			 const char *name);
int hosted_thread_join(plat_thread *t);
void hosted_thread_yield(void);
int hosted_mutex_new(plat_mutex **m);
void hosted_mutex_free(plat_mutex *m);
void hosted_mutex_lock(plat_mutex *m);
void hosted_mutex_unlock(plat_mutex *m);
int hosted_cond_new(plat_cond **c);
void hosted_cond_free(plat_cond *c);
void hosted_cond_wait(plat_cond *c, plat_mutex *m);
int hosted_cond_wait_until(plat_cond *c, plat_mutex *m, uint64_t deadline_ns);
void hosted_cond_signal(plat_cond *c);
void hosted_cond_broadcast(plat_cond *c);
void hosted_sleep_ns(uint64_t ns);
uint64_t hosted_monotonic_ns(void);
uint64_t hosted_wall_ns(void);

/* hosted_blk.c */
int hosted_blk_open(const char *name, uint32_t flags, uint64_t create_size,
		    struct plat_blk **b);

/* hosted_misc.c */
int hosted_entropy(void *buf, size_t len);
void hosted_console_write(const char *s, size_t len);
int hosted_console_read(char *buf, size_t len, uint64_t timeout_ns);
void hosted_halt(const char *why) __attribute__((noreturn));

/* hosted_sock.c */
int hosted_sock_listen(const char *host, uint16_t port, plat_sock **s);
int hosted_sock_accept(plat_sock *ls, plat_sock **s, uint64_t timeout_ns);
int hosted_sock_connect(const char *host, uint16_t port, plat_sock **s,
			uint64_t timeout_ns);
long hosted_sock_recv(plat_sock *s, void *buf, size_t len, uint64_t timeout_ns);
int hosted_sock_send(plat_sock *s, const void *buf, size_t len);
int hosted_sock_port(plat_sock *s);
void hosted_sock_close(plat_sock *s);

#endif
