/* rtc_cmos.c — reads the MC146818 RTC through ports 0x70/0x71: waits out an
 * update in progress, reads until two passes agree, decodes BCD and 12-hour
 * modes (status register B) and the century register (0x32, as QEMU and
 * ACPI FADT's usual century index give it). */
#include <stdbool.h>

#include "cpu.h"
#include "err.h"
#include "rtc_cmos.h"

struct rtc_raw {
	uint8_t sec, min, hour, day, mon, year, century;
};

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg | 0x80);             /* bit 7: keep NMI disabled */
	return inb(0x71);
}

static bool rtc_updating(void)
{
	return cmos(0x0A) & 0x80;
}

static void rtc_read_raw(struct rtc_raw *r)
{
	r->sec = cmos(0x00);
	r->min = cmos(0x02);
	r->hour = cmos(0x04);
	r->day = cmos(0x07);
	r->mon = cmos(0x08);
	r->year = cmos(0x09);
	r->century = cmos(0x32);
}

static bool raw_equal(const struct rtc_raw *a, const struct rtc_raw *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
	       a->day == b->day && a->mon == b->mon && a->year == b->year &&
	       a->century == b->century;
}

static int bcd(uint8_t v)
{
	return (v & 0x0f) + (v >> 4) * 10;
}

int64_t drv_rtc_to_unix(int year, int mon, int day, int hour, int min, int sec)
{
	/* Howard Hinnant's days_from_civil. */
	int y = year - (mon <= 2);
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	return days * 86400 + hour * 3600 + min * 60 + sec;
}

int drv_rtc_read(int64_t *unix_secs)
{
	struct rtc_raw a, b;
	int tries = 0;

	do {
		for (int i = 0; rtc_updating(); i++)
			if (i > 1000000)
				return -ERR_IO;
		rtc_read_raw(&a);
		for (int i = 0; rtc_updating(); i++)
			if (i > 1000000)
				return -ERR_IO;
		rtc_read_raw(&b);
		if (++tries > 10)
			return -ERR_IO;
	} while (!raw_equal(&a, &b));

	uint8_t regb = cmos(0x0B);
	bool pm = (b.hour & 0x80) != 0;
	b.hour &= 0x7f;
	int sec = b.sec, min = b.min, hour = b.hour, day = b.day, mon = b.mon;
	int year = b.year, century = b.century;
	if (!(regb & 0x04)) {               /* BCD mode */
		sec = bcd(b.sec);
		min = bcd(b.min);
		hour = bcd(b.hour);
		day = bcd(b.day);
		mon = bcd(b.mon);
		year = bcd(b.year);
		century = bcd(b.century);
	}
	if (!(regb & 0x02)) {               /* 12-hour mode: 12 AM is 0 */
		hour %= 12;
		if (pm)
			hour += 12;
	}
	year += (century >= 19 && century <= 30) ? century * 100 : 2000;
	if (sec > 59 || min > 59 || hour > 23 || day < 1 || day > 31 ||
	    mon < 1 || mon > 12)
		return -ERR_IO;
	*unix_secs = drv_rtc_to_unix(year, mon, day, hour, min, sec);
	return 0;
}
