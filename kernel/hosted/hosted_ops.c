/* hosted_ops.c — the hosted platform's ops table (plat_hosted_ops) and
 * plat_hosted_init(), which prepares the process (signals, the main thread's
 * alternate stack) and installs the table as the active platform. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <sodium.h>

#include "hosted.h"

const struct plat_ops plat_hosted_ops = {
	.version = PLAT_ABI_VERSION,
	.name = "hosted-linux",

	.arena_reserve = hosted_arena_reserve,
	.arena_release = hosted_arena_release,
	.mem_protect = hosted_mem_protect,
	.mem_discard = hosted_mem_discard,
	.page_fill = hosted_page_fill,
	.set_fault_handler = hosted_set_fault_handler,

	.thread_create = hosted_thread_create,
	.thread_join = hosted_thread_join,
	.thread_yield = hosted_thread_yield,
	.mutex_new = hosted_mutex_new,
	.mutex_free = hosted_mutex_free,
	.mutex_lock = hosted_mutex_lock,
	.mutex_unlock = hosted_mutex_unlock,
	.cond_new = hosted_cond_new,
	.cond_free = hosted_cond_free,
	.cond_wait = hosted_cond_wait,
	.cond_wait_until = hosted_cond_wait_until,
	.cond_signal = hosted_cond_signal,
	.cond_broadcast = hosted_cond_broadcast,
	.sleep_ns = hosted_sleep_ns,

	.monotonic_ns = hosted_monotonic_ns,
	.wall_ns = hosted_wall_ns,

	.blk_open = hosted_blk_open,

	.entropy = hosted_entropy,
	.console_write = hosted_console_write,
	.console_read = hosted_console_read,

	.sock_listen = hosted_sock_listen,
	.sock_accept = hosted_sock_accept,
	.sock_connect = hosted_sock_connect,
	.sock_recv = hosted_sock_recv,
	.sock_send = hosted_sock_send,
	.sock_port = hosted_sock_port,
	.sock_close = hosted_sock_close,

	.halt = hosted_halt,
};

int plat_hosted_init(void)
{
	/* A peer that closes its end must be an error from send, not death. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return hosted_err(errno);
	int rc = hosted_altstack_push();
	if (rc == 0)
		rc = hosted_fault_install();
	if (rc == 0 && sodium_init() < 0)
		rc = -ERR_IO;   /* picks libsodium's fastest implementations */
	if (rc == 0)
		rc = plat_install(&plat_hosted_ops);
	return rc;
}
