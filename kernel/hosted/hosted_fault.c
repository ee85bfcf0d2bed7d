/* hosted_fault.c — the arena's fault path on Linux: a SIGSEGV handler that
 * hands faults inside the arena to the registered plat_fault_fn. A fault the
 * hook cannot resolve (the store cannot deliver the page, an OS call failed)
 * ends the process with a message and HOSTED_EXIT_ARENA_FAULT: the image is
 * as last committed, nothing crashed. Everything else (outside the arena, no
 * hook: a bug) dies of an ordinary SIGSEGV. Per-thread alternate signal
 * stacks let the handler run even when a thread's stack overflowed. */
#if !defined(__x86_64__)
#error "hosted_fault.c decodes the x86_64 page-fault error code"
#endif

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "hosted.h"

/* The arena range and the hook, read by the handler on any thread. The range
 * is published by the arena (hosted_fault_set_range) after the mapping exists
 * and cleared before it is unmapped. The hook and its context are meant to be
 * set while no thread is faulting; the handler loads fn before ctx. */
static uintptr_t fault_lo, fault_hi;
static plat_fault_fn fault_fn;
static void *fault_ctx;

/* Thread-locals the handler touches: initial-exec, so no lazy TLS
 * allocation can happen inside a signal handler. */
#define FAULT_TLS static __thread __attribute__((tls_model("initial-exec")))

#define ALTSTACK_SIZE (64u * 1024u)
FAULT_TLS void *altstack_mem;         /* ours to free, or NULL */

/* While this thread runs the hook, the first OS error from an arena call
 * (a failed mprotect, say) is kept in fault_os_errno. If the hook still
 * returned true and the very same access faults again, the error was not
 * recovered from: the fault is fatal, instead of retrying forever. (A hook
 * that recovered, e.g. by protecting a wider range, never refaults.) */
FAULT_TLS int fault_depth;
FAULT_TLS int fault_os_errno;
FAULT_TLS uintptr_t fault_err_addr;   /* 0: no unresolved error */
FAULT_TLS bool fault_err_write;

void hosted_fault_set_range(uintptr_t lo, uintptr_t hi)
{
	__atomic_store_n(&fault_hi, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fault_lo, lo, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fault_hi, hi, __ATOMIC_SEQ_CST);
}

void hosted_fault_note_error(int errnum)
{
	if (fault_depth > 0 && fault_os_errno == 0)
		fault_os_errno = errnum;
}

int hosted_set_fault_handler(plat_fault_fn fn, void *ctx)
{
	__atomic_store_n(&fault_ctx, ctx, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fault_fn, fn, __ATOMIC_SEQ_CST);
	return 0;
}

/* Async-signal-safe "phantom: fatal read fault ... at 0x...\n" on stderr. */
static void fault_report(uintptr_t addr, bool is_write, const char *why)
{
	char msg[160];
	size_t n = 0;
	const char *parts[] = { "phantom: fatal ", is_write ? "write" : "read",
				" fault ", why, " at 0x" };
	for (unsigned i = 0; i < sizeof parts / sizeof parts[0]; i++)
		for (const char *p = parts[i]; *p && n < 120; p++)
			msg[n++] = *p;
	for (int shift = 60; shift >= 0; shift -= 4)
		msg[n++] = "0123456789abcdef"[(addr >> shift) & 0xf];
	msg[n++] = '\n';
	ssize_t rc = write(2, msg, n);
	(void)rc;
}

/* Makes the fault fatal the usual way: default action, then the signal is
 * re-raised; it is delivered (and kills) as soon as the handler returns. */
static void fault_die(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	raise(SIGSEGV);
}

static void fault_on_segv(int sig, siginfo_t *si, void *ucv)
{
	int saved_errno = errno;
	const ucontext_t *uc = ucv;
	uintptr_t addr = (uintptr_t)si->si_addr;
	/* x86_64 #PF error code: bit 1 set = the access was a write. */
	bool is_write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
	bool from_kernel = si->si_code == SEGV_ACCERR ||
			   si->si_code == SEGV_MAPERR;
	uintptr_t hi = __atomic_load_n(&fault_hi, __ATOMIC_SEQ_CST);
	uintptr_t lo = __atomic_load_n(&fault_lo, __ATOMIC_SEQ_CST);
	bool in_arena = from_kernel && addr >= lo && addr < hi;

	const char *why = "outside the arena";
	(void)sig;
	if (in_arena) {
		plat_fault_fn fn = __atomic_load_n(&fault_fn, __ATOMIC_SEQ_CST);
		void *ctx = __atomic_load_n(&fault_ctx, __ATOMIC_SEQ_CST);
		bool ok = false;
		why = "in the arena, refused by the hook";
		if (fn == NULL) {
			why = "in the arena, no hook set";
		} else if (fault_err_addr == addr && fault_err_write == is_write) {
			why = "in the arena, persisting after an OS call in the hook failed";
		} else {
			int outer_errno = fault_os_errno;
			fault_depth++;
			fault_os_errno = 0;
			ok = fn(ctx, (void *)addr, is_write);
			fault_depth--;
			fault_err_addr = ok && fault_os_errno != 0 ? addr : 0;
			fault_err_write = is_write;
			fault_os_errno = outer_errno;
		}
		if (ok) {
			errno = saved_errno;
			return;     /* the instruction retries */
		}
	}
	if (from_kernel)
		fault_report(addr, is_write, why);
	if (in_arena && __atomic_load_n(&fault_fn, __ATOMIC_SEQ_CST) != NULL)
		_exit(HOSTED_EXIT_ARENA_FAULT);
	fault_die();
}

int hosted_fault_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fault_on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		return hosted_err(errno);
	return 0;
}

int hosted_altstack_push(void)
{
	stack_t cur;
	if (sigaltstack(NULL, &cur) != 0)
		return hosted_err(errno);
	if (!(cur.ss_flags & SS_DISABLE))
		return 0;           /* the thread already has one */
	void *mem = malloc(ALTSTACK_SIZE);
	if (mem == NULL)
		return -ERR_NOMEM;
	stack_t ss = { .ss_sp = mem, .ss_size = ALTSTACK_SIZE, .ss_flags = 0 };
	if (sigaltstack(&ss, NULL) != 0) {
		int rc = hosted_err(errno);
		free(mem);
		return rc;
	}
	altstack_mem = mem;
	return 0;
}

void hosted_altstack_pop(void)
{
	if (altstack_mem == NULL)
		return;
	stack_t ss = { .ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE };
	if (sigaltstack(&ss, NULL) == 0) {
		free(altstack_mem);
		altstack_mem = NULL;
	}
}
