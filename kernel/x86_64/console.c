/* console.c — the kernel console over the COM1 16550: kprintf, raw writes
 * (LF becomes CRLF) and polled line input. Output is serialized by disabling
 * interrupts (one CPU); it never allocates, so panics may use it. */
#include <stdbool.h>

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

size_t con_readline(char *buf, size_t len)
{
	size_t n = 0;
	for (;;) {
		int c = con_getc();
		if (c < 0) {
			/* Polled UART: let other threads run between looks. */
			if (kthread_current() != NULL)
				kthread_sleep_ns(1000000);
			else
				cpu_pause();
			continue;
		}
		if (c == '\r' || c == '\n') {
			con_write("\n", 1);
			break;
		}
		if (n + 1 < len) {
			buf[n++] = (char)c;
			char e = (char)c;
			con_write(&e, 1);
		}
	}
	if (len > 0)
		buf[n] = '\0';
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
