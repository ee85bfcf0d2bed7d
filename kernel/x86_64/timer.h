/* timer.h — the periodic timer (PIT channel 0 on IRQ 0) and the clocks built
 * on it: monotonic nanoseconds since boot and wall time from the RTC. */
#ifndef X86_TIMER_H
#define X86_TIMER_H

#include <stdint.h>

#define TIMER_HZ 1000u

/* Programs the PIT, reads the RTC once, unmasks IRQ 0 (interrupts must be
 * enabled by the caller). */
void timer_init(void);
uint64_t timer_ticks(void);
/* Monotonic, never decreasing, resolution below one tick. */
uint64_t timer_monotonic_ns(void);
/* Nanoseconds since the Unix epoch: the RTC at boot plus monotonic time
 * since; 0 if the RTC could not be read. */
uint64_t timer_wall_ns(void);

#endif
