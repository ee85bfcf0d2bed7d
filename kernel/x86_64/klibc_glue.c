/* klibc_glue.c — installs the kernel libc's hooks: console output, abort as a
 * kernel panic, and clock_gettime over the timer. */
#include <stddef.h>
#include <time.h>

#include "console.h"
#include "cpu.h"
#include "klibc.h"
#include "klibc_glue.h"
#include "timer.h"
#include "trap.h"

static void __attribute__((noreturn)) glue_abort(const char *why)
{
	kpanic("libc abort: %s", why ? why : "(no reason)");
}

/* The heap is shared by all kernel threads: interrupts off is the lock on
 * one CPU (malloc never faults: the heap is mapped at boot). */
static uint64_t heap_irq_flags;

static void glue_heap_lock(void)
{
	uint64_t f = cpu_save_irq();
	heap_irq_flags = f;
}

static void glue_heap_unlock(void)
{
	cpu_restore_irq(heap_irq_flags);
}

static int glue_clock(int clock_id, uint64_t *ns)
{
	if (clock_id == CLOCK_REALTIME)
		*ns = timer_wall_ns();
	else if (clock_id == CLOCK_MONOTONIC)
		*ns = timer_monotonic_ns();
	else
		return -1;
	return 0;
}

void klibc_glue_init(void)
{
	struct klibc_hooks h = {
		.console_write = con_write,
		.abort = glue_abort,
		.clock_ns = glue_clock,
		.heap_lock = glue_heap_lock,
		.heap_unlock = glue_heap_unlock,
	};
	klibc_set_hooks(&h);
}
