/* plat.h — the platform boundary. The portable core (vm/, persist/,
 * replication/, net/) reaches everything outside itself through this header and
 * nothing else: the persistent arena's address space, threads and locks, time,
 * block devices, entropy, the console and sockets.
 *
 * A platform (kernel/hosted/ over Linux, kernel/x86_64/ on bare metal, or a
 * test double) fills one versioned table, struct plat_ops, and installs it with
 * plat_install() before the core runs. The core calls the thin plat_* wrappers
 * below, so a fault-injecting or simulated platform can be stacked in one place.
 *
 * Conventions: functions return 0 (or a count) on success and a negative
 * err_code (err.h) on failure. Times are nanoseconds. Handles are opaque. */
#ifndef PHANTOM_PLAT_H
#define PHANTOM_PLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Bump when struct plat_ops changes shape or meaning. */
#define PLAT_ABI_VERSION 1u

/* The persistent arena lives at this virtual address on every platform, so a
 * pointer stored inside it means the same thing on every boot and on both
 * builds. Lower half, canonical, 32 TiB up: clear of Linux's usual mappings and
 * of the bare-metal kernel's own space (see kernel/x86_64 memlayout). */
#define PLAT_ARENA_BASE   0x0000200000000000ull
#define PLAT_ARENA_MAX    (1ull << 40)          /* 1 TiB upper bound      */
#define PLAT_PAGE_SIZE    4096u
#define PLAT_SECTOR_SIZE  512u                  /* block I/O granularity  */

/* Page access for plat_mem_protect(). */
enum plat_prot {
	PLAT_PROT_NONE = 0,    /* any access faults (not yet paged in)   */
	PLAT_PROT_READ = 1,    /* writes fault (dirty tracking)          */
	PLAT_PROT_RW   = 3,
};

/* Memory-fault hook, called on the faulting thread (a signal handler on the
 * hosted build, the #PF handler on bare metal) for an access to the arena that
 * its protection forbids. It must resolve the fault (typically by changing the
 * protection of the page) and return true, or return false to let the fault
 * be fatal. It may call plat_mem_protect(), plat_page_fill(), the blk read
 * path, plat_thread_yield() and plat_sleep_ns(): on bare metal it runs in the
 * faulting thread's context with interrupts enabled and may block. It must not
 * take locks that a faulting thread might already hold. A block-device buffer
 * must never be an arena page (that page's fault path may need the device). */
typedef bool (*plat_fault_fn)(void *ctx, void *addr, bool is_write);

typedef struct plat_thread plat_thread;
typedef struct plat_mutex  plat_mutex;
typedef struct plat_cond   plat_cond;
typedef struct plat_sock   plat_sock;
typedef void (*plat_thread_fn)(void *arg);

/* A block device: sector-aligned byte offsets and lengths. write() may be
 * reordered and lost until flush() returns 0; after that it survives a power
 * cut (or, hosted, a kill -9 and a crash of the machine). Stackable: a
 * fault-injecting device wraps another by holding its pointer. */
struct plat_blk;
struct plat_blk_ops {
	int (*read)(struct plat_blk *b, uint64_t off, void *buf, size_t len);
	int (*write)(struct plat_blk *b, uint64_t off, const void *buf, size_t len);
	int (*flush)(struct plat_blk *b);
	void (*close)(struct plat_blk *b);
};
struct plat_blk {
	const struct plat_blk_ops *ops;
	uint64_t size;              /* bytes, a multiple of PLAT_SECTOR_SIZE */
	const char *name;           /* for error messages                    */
};

/* Flags for blk_open. */
#define PLAT_BLK_CREATE   1u   /* create if missing, with the given size   */
#define PLAT_BLK_RDONLY   2u

struct plat_ops {
	uint32_t version;           /* PLAT_ABI_VERSION                       */
	const char *name;           /* "hosted-linux", "x86_64", ...          */

	/* Arena address space. reserve maps [PLAT_ARENA_BASE, +size) with no
	 * access and no backing touched: a page made accessible before any
	 * fill reads as zeros; protect changes page access; discard
	 * drops a range's contents (it reads back as zeros). page_fill copies
	 * one page of src into the arena page at addr and then gives it prot,
	 * atomically as other threads see it: they fault until it is complete
	 * (lazy page-in). mem_protect, mem_discard and page_fill are safe to
	 * call from the fault handler. */
	int (*arena_reserve)(uint64_t size, void **base);
	int (*arena_release)(void);
	int (*mem_protect)(void *addr, size_t len, enum plat_prot prot);
	int (*mem_discard)(void *addr, size_t len);
	int (*page_fill)(void *addr, const void *src, enum plat_prot prot);
	int (*set_fault_handler)(plat_fault_fn fn, void *ctx);

	/* Threads, locks, condition variables. cond_wait_until takes an
	 * absolute monotonic deadline and returns -ERR_TIMEDOUT on expiry. */
	int (*thread_create)(plat_thread **t, plat_thread_fn fn, void *arg,
			     const char *name);
	int (*thread_join)(plat_thread *t);
	void (*thread_yield)(void);
	int (*mutex_new)(plat_mutex **m);
	void (*mutex_free)(plat_mutex *m);
	void (*mutex_lock)(plat_mutex *m);
	void (*mutex_unlock)(plat_mutex *m);
	int (*cond_new)(plat_cond **c);
	void (*cond_free)(plat_cond *c);
	void (*cond_wait)(plat_cond *c, plat_mutex *m);
	int (*cond_wait_until)(plat_cond *c, plat_mutex *m, uint64_t deadline_ns);
	void (*cond_signal)(plat_cond *c);
	void (*cond_broadcast)(plat_cond *c);
	void (*sleep_ns)(uint64_t ns);

	/* Time: monotonic since an arbitrary origin; wall since the Unix epoch. */
	uint64_t (*monotonic_ns)(void);
	uint64_t (*wall_ns)(void);

	/* Block devices by name: a file path hosted, "vda"... on bare metal. */
	int (*blk_open)(const char *name, uint32_t flags, uint64_t create_size,
			struct plat_blk **b);

	/* Entropy from the platform's best source; fills the whole buffer. */
	int (*entropy)(void *buf, size_t len);

	/* Console: write all; read up to len bytes, waiting at most timeout_ns
	 * (0 = poll). read returns the count, 0 on timeout, -ERR_CLOSED at end. */
	void (*console_write)(const char *s, size_t len);
	int (*console_read)(char *buf, size_t len, uint64_t timeout_ns);

	/* TCP sockets. host is a dotted IPv4 address. recv waits at most
	 * timeout_ns (UINT64_MAX = forever) and returns the count, 0 at EOF or
	 * -ERR_TIMEDOUT; send writes everything or fails. A platform without a
	 * network returns -ERR_NONET from listen and connect. */
	int (*sock_listen)(const char *host, uint16_t port, plat_sock **s);
	int (*sock_accept)(plat_sock *ls, plat_sock **s, uint64_t timeout_ns);
	int (*sock_connect)(const char *host, uint16_t port, plat_sock **s,
			    uint64_t timeout_ns);
	long (*sock_recv)(plat_sock *s, void *buf, size_t len, uint64_t timeout_ns);
	int (*sock_send)(plat_sock *s, const void *buf, size_t len);
	int (*sock_port)(plat_sock *s);          /* local port (after listen 0) */
	void (*sock_close)(plat_sock *s);

	/* Stop the machine after a broken invariant; never returns. */
	void (*halt)(const char *why) __attribute__((noreturn));
};

/* The installed platform. plat_install checks the version. */
extern const struct plat_ops *plat_active;
int plat_install(const struct plat_ops *ops);

/* printf-style helpers built on console_write (kernel/common/plat_util.c). */
void plat_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void plat_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Thin wrappers: the only way the core calls the platform. */
static inline int plat_arena_reserve(uint64_t size, void **base) { return plat_active->arena_reserve(size, base); }
static inline int plat_arena_release(void) { return plat_active->arena_release(); }
static inline int plat_mem_protect(void *a, size_t n, enum plat_prot p) { return plat_active->mem_protect(a, n, p); }
static inline int plat_mem_discard(void *a, size_t n) { return plat_active->mem_discard(a, n); }
static inline int plat_page_fill(void *a, const void *src, enum plat_prot p) { return plat_active->page_fill(a, src, p); }
static inline int plat_set_fault_handler(plat_fault_fn fn, void *ctx) { return plat_active->set_fault_handler(fn, ctx); }

static inline int plat_thread_create(plat_thread **t, plat_thread_fn fn, void *arg, const char *name) { return plat_active->thread_create(t, fn, arg, name); }
static inline int plat_thread_join(plat_thread *t) { return plat_active->thread_join(t); }
static inline void plat_thread_yield(void) { plat_active->thread_yield(); }
static inline int plat_mutex_new(plat_mutex **m) { return plat_active->mutex_new(m); }
static inline void plat_mutex_free(plat_mutex *m) { plat_active->mutex_free(m); }
static inline void plat_mutex_lock(plat_mutex *m) { plat_active->mutex_lock(m); }
static inline void plat_mutex_unlock(plat_mutex *m) { plat_active->mutex_unlock(m); }
static inline int plat_cond_new(plat_cond **c) { return plat_active->cond_new(c); }
static inline void plat_cond_free(plat_cond *c) { plat_active->cond_free(c); }
static inline void plat_cond_wait(plat_cond *c, plat_mutex *m) { plat_active->cond_wait(c, m); }
static inline int plat_cond_wait_until(plat_cond *c, plat_mutex *m, uint64_t deadline) { return plat_active->cond_wait_until(c, m, deadline); }
static inline void plat_cond_signal(plat_cond *c) { plat_active->cond_signal(c); }
static inline void plat_cond_broadcast(plat_cond *c) { plat_active->cond_broadcast(c); }
static inline void plat_sleep_ns(uint64_t ns) { plat_active->sleep_ns(ns); }

static inline uint64_t plat_monotonic_ns(void) { return plat_active->monotonic_ns(); }
static inline uint64_t plat_wall_ns(void) { return plat_active->wall_ns(); }

static inline int plat_blk_open(const char *name, uint32_t flags, uint64_t create_size, struct plat_blk **b) { return plat_active->blk_open(name, flags, create_size, b); }
static inline int plat_blk_read(struct plat_blk *b, uint64_t off, void *buf, size_t len) { return b->ops->read(b, off, buf, len); }
static inline int plat_blk_write(struct plat_blk *b, uint64_t off, const void *buf, size_t len) { return b->ops->write(b, off, buf, len); }
static inline int plat_blk_flush(struct plat_blk *b) { return b->ops->flush(b); }
static inline void plat_blk_close(struct plat_blk *b) { b->ops->close(b); }

static inline int plat_entropy(void *buf, size_t len) { return plat_active->entropy(buf, len); }
static inline void plat_console_write(const char *s, size_t len) { plat_active->console_write(s, len); }
static inline int plat_console_read(char *buf, size_t len, uint64_t timeout_ns) { return plat_active->console_read(buf, len, timeout_ns); }

static inline int plat_sock_listen(const char *host, uint16_t port, plat_sock **s) { return plat_active->sock_listen(host, port, s); }
static inline int plat_sock_accept(plat_sock *ls, plat_sock **s, uint64_t timeout_ns) { return plat_active->sock_accept(ls, s, timeout_ns); }
static inline int plat_sock_connect(const char *host, uint16_t port, plat_sock **s, uint64_t timeout_ns) { return plat_active->sock_connect(host, port, s, timeout_ns); }
static inline long plat_sock_recv(plat_sock *s, void *buf, size_t len, uint64_t timeout_ns) { return plat_active->sock_recv(s, buf, len, timeout_ns); }
static inline int plat_sock_send(plat_sock *s, const void *buf, size_t len) { return plat_active->sock_send(s, buf, len); }
static inline int plat_sock_port(plat_sock *s) { return plat_active->sock_port(s); }
static inline void plat_sock_close(plat_sock *s) { plat_active->sock_close(s); }

#endif
