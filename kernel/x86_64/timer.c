/* timer.c — PIT channel 0 as a rate generator at TIMER_HZ driving the tick
 * count; monotonic time adds the latched down-counter to the ticks, so it
 * resolves ~0.84 us. Wall time anchors the RTC's reading at boot to the
 * monotonic clock (the RTC has one-second resolution). */
#include <stdbool.h>

#include "cpu.h"
#include "kthread.h"
#include "pic.h"
#include "rtc_cmos.h"
#include "timer.h"
#include "trap.h"

#define PIT_HZ      1193182ul
#define PIT_DIVISOR ((PIT_HZ + TIMER_HZ / 2) / TIMER_HZ)

static volatile uint64_t timer_tick_count;
static uint64_t timer_last_ns;          /* keeps monotonic_ns monotonic   */
static uint64_t wall_at_boot_ns;        /* RTC reading at wall_mono_ns    */
static uint64_t wall_mono_ns;

static void timer_irq(struct trap_frame *f)
{
	(void)f;
	timer_tick_count++;
	kthread_tick(timer_monotonic_ns());
}

void timer_init(void)
{
	outb(0x43, 0x34);                   /* ch 0, lo/hi, mode 2 */
	outb(0x40, PIT_DIVISOR & 0xff);
	outb(0x40, PIT_DIVISOR >> 8);
	trap_set_irq(0, timer_irq);
	pic_unmask(0);

	int64_t secs;
	if (drv_rtc_read(&secs) == 0 && secs > 0) {
		wall_mono_ns = timer_monotonic_ns();
		wall_at_boot_ns = (uint64_t)secs * 1000000000ul;
	}
}

uint64_t timer_ticks(void)
{
	return timer_tick_count;
}

static uint64_t pit_counts_to_ns(uint64_t c)
{
	return c / PIT_HZ * 1000000000ul + c % PIT_HZ * 1000000000ul / PIT_HZ;
}

uint64_t timer_monotonic_ns(void)
{
	uint64_t f = cpu_save_irq();
	uint64_t ticks = timer_tick_count;
	outb(0x43, 0x00);                   /* latch channel 0 */
	uint64_t count = inb(0x40);
	count |= (uint64_t)inb(0x40) << 8;
	/* The counter reloaded but its IRQ is not serviced yet (interrupts are
	 * off here): count that tick now. A high count means a fresh period. */
	if (pic_pending(0) && count > PIT_DIVISOR / 2)
		ticks++;
	uint64_t elapsed = count <= PIT_DIVISOR ? PIT_DIVISOR - count : 0;
	uint64_t ns = pit_counts_to_ns(ticks * PIT_DIVISOR + elapsed);
	if (ns < timer_last_ns)
		ns = timer_last_ns;
	timer_last_ns = ns;
	cpu_restore_irq(f);
	return ns;
}

uint64_t timer_wall_ns(void)
{
	if (wall_at_boot_ns == 0)
		return 0;
	return wall_at_boot_ns + (timer_monotonic_ns() - wall_mono_ns);
}
