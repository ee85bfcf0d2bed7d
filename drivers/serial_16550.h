/* serial_16550.h — the 16550 UART driver: polled output and input on one
 * port (COM1 at 0x3f8 is the kernel console). */
#ifndef DRV_SERIAL_16550_H
#define DRV_SERIAL_16550_H

#include <stdbool.h>
#include <stdint.h>

#define DRV_SERIAL_COM1 0x3f8

/* Programs the UART for 115200 8N1 with FIFOs; returns false if no UART
 * answers at that port (the loopback self-test fails). */
bool drv_serial_init(uint16_t port);
void drv_serial_putc(uint16_t port, char c);
/* A received byte, or -1 when none is waiting (never blocks). */
int drv_serial_getc(uint16_t port);

#endif
