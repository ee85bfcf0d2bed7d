/* console.c — the kernel console over the COM1 16550: kprintf, raw writes
 * (LF becomes CRLF) and polled, echoed, editable line input. Output is serialized by disabling
 * interrupts (one CPU); it never allocates, so panics may use it. */
#include <stdbool.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "kfmt.h"
#include "kthread.h"
#include "serial_16550.h"

static bool con_ready;

void con_init(void)
{
	con_ready = drv_serial_init(DRV_SERIAL_COM1);
}

static void con_putc_raw(char c)
{
	if (!con_ready)
		return;
	if (c == '\n')
		drv_serial_putc(DRV_SERIAL_COM1, '\r');
	drv_serial_putc(DRV_SERIAL_COM1, c);
}

void con_write(const char *s, size_t len)
{
	uint64_t f = cpu_save_irq();
	for (size_t i = 0; i < len; i++)
		con_putc_raw(s[i]);
	cpu_restore_irq(f);
}

int con_getc(void)
{
	return con_ready ? drv_serial_getc(DRV_SERIAL_COM1) : -1;
}

/* The line being typed, and how much of a completed one was handed out. */
static char line[256];
static size_t line_len, line_out;
static bool line_done, last_cr;

/* Feeds one typed byte to the line editor; true when it ended the line. */
static bool line_feed(int c)
{
	if (c == '\n' && last_cr) {          /* the LF of a CRLF */
		last_cr = false;
		return false;
	}
	last_cr = c == '\r';
	if (c == '\r' || c == '\n') {
		line[line_len++] = '\n';
		line_done = true;
		con_write("\n", 1);
		return true;
	}
	if (c == 0x7f || c == 0x08) {         /* DEL or BS: erase one byte */
		if (line_len > 0) {
			line_len--;
			con_write("\b \b", 3);
		}
		return false;
	}
	if ((unsigned)c < 0x20 || line_len + 1 >= sizeof line)
		return false;                  /* other controls; a full line */
	line[line_len++] = (char)c;
	char e = (char)c;
	con_write(&e, 1);
	return false;
}

static void line_reset(void)
{
	line_len = line_out = 0;
	line_done = false;
}

size_t con_read_lines(char *buf, size_t len)
{
	size_t n = 0;
	while (n < len) {
		if (line_done) {
			size_t k = line_len - line_out;
			if (k > len - n)
				k = len - n;
			memcpy(buf + n, line + line_out, k);
			n += k;
			line_out += k;
			if (line_out == line_len)
				line_reset();
			continue;
		}
		int c = con_getc();
		if (c < 0)
			break;
		line_feed(c);
	}
	return n;
}

size_t con_readline(char *buf, size_t len)
{
	while (!line_done) {
		int c = con_getc();
		if (c >= 0) {
			line_feed(c);
		} else if (kthread_current() != NULL) {
			kthread_sleep_ns(1000000);     /* polled UART */
		} else {
			cpu_pause();
		}
	}
	size_t n = line_len - line_out - 1;   /* without the '\n' */
	if (len > 0) {
		if (n > len - 1)
			n = len - 1;
		memcpy(buf, line + line_out, n);
		buf[n] = '\0';
	}
	line_reset();
	return n;
}

static void con_sink(void *ctx, char c)
{
	(void)ctx;
	con_putc_raw(c);
}

void kvprintf(const char *fmt, va_list ap)
{
	uint64_t f = cpu_save_irq();
	kfmt(con_sink, NULL, fmt, ap);
	cpu_restore_irq(f);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

struct buf_sink {
	char *buf;
	size_t len, pos;
};

static void buf_sink(void *ctx, char c)
{
	struct buf_sink *b = ctx;
	if (b->pos + 1 < b->len)
		b->buf[b->pos] = c;
	b->pos++;
}

int ksnprintf(char *buf, size_t len, const char *fmt, ...)
{
	struct buf_sink b = { buf, len, 0 };
	va_list ap;
	va_start(ap, fmt);
	kfmt(buf_sink, &b, fmt, ap);
	va_end(ap);
	if (len > 0)
		buf[b.pos < len ? b.pos : len - 1] = '\0';
	return (int)b.pos;
}
