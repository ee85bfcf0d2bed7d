/* serial_16550.c — 16550 UART: init with a loopback self-test, polled
 * transmit (waits for the holding register) and polled receive. Register
 * offsets and bits from the PC16550D data sheet. */
#include "serial_16550.h"
#include "cpu.h"

enum {
	UART_DATA = 0, UART_IER = 1, UART_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5,
};
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

bool drv_serial_init(uint16_t port)
{
	outb(port + UART_IER, 0x00);          /* no interrupts: polled   */
	outb(port + UART_LCR, 0x80);          /* DLAB on                 */
	outb(port + UART_DATA, 0x01);         /* divisor 1 = 115200 baud */
	outb(port + UART_IER, 0x00);
	outb(port + UART_LCR, 0x03);          /* 8N1, DLAB off           */
	outb(port + UART_FCR, 0xC7);          /* FIFOs on, cleared, 14 B */
	outb(port + UART_MCR, 0x1E);          /* loopback for the test   */
	outb(port + UART_DATA, 0xAE);
	if (inb(port + UART_DATA) != 0xAE)
		return false;
	outb(port + UART_MCR, 0x0F);          /* normal: DTR RTS OUT1 OUT2 */
	return true;
}

void drv_serial_putc(uint16_t port, char c)
{
	/* Bounded wait: a wedged UART must not hang a panic dump forever. */
	for (int i = 0; i < 100000 && !(inb(port + UART_LSR) & LSR_THR_EMPTY); i++)
		cpu_pause();
	outb(port + UART_DATA, (uint8_t)c);
}

int drv_serial_getc(uint16_t port)
{
	if (!(inb(port + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(port + UART_DATA);
}
