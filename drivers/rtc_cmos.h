/* rtc_cmos.h — the PC's CMOS real-time clock (MC146818), read-only. */
#ifndef DRV_RTC_CMOS_H
#define DRV_RTC_CMOS_H

#include <stdint.h>

/* Seconds since the Unix epoch (the RTC is assumed to keep UTC, as QEMU's
 * default does). -ERR_IO if the clock never settles or reads nonsense. */
int drv_rtc_read(int64_t *unix_secs);
/* Days-from-civil: seconds since the epoch of a UTC calendar time. */
int64_t drv_rtc_to_unix(int year, int mon, int day, int hour, int min, int sec);

#endif
