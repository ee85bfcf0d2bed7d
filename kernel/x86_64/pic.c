/* pic.c — 8259A programmable interrupt controllers (master 0x20, slave
 * 0xA0), cascaded on IRQ 2. Initialization words per the 8259A data sheet. */
#include "cpu.h"
#include "pic.h"
#include "trap.h"

#define PIC1 0x20
#define PIC2 0xA0

static uint16_t pic_mask = 0xffff & ~(1u << 2);   /* cascade line open */

static void pic_write_mask(void)
{
	outb(PIC1 + 1, pic_mask & 0xff);
	outb(PIC2 + 1, pic_mask >> 8);
}

void pic_init(void)
{
	outb(PIC1, 0x11);                   /* ICW1: init, ICW4 follows */
	outb(PIC2, 0x11);
	outb(PIC1 + 1, TRAP_IRQ_BASE);      /* ICW2: vector offsets     */
	outb(PIC2 + 1, TRAP_IRQ_BASE + 8);
	outb(PIC1 + 1, 4);                  /* ICW3: slave on IRQ 2     */
	outb(PIC2 + 1, 2);
	outb(PIC1 + 1, 1);                  /* ICW4: 8086 mode          */
	outb(PIC2 + 1, 1);
	pic_write_mask();
}

void pic_unmask(unsigned irq)
{
	pic_mask &= ~(1u << irq);
	pic_write_mask();
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2, 0x20);
	outb(PIC1, 0x20);
}

static uint16_t pic_read(uint8_t ocw3)
{
	outb(PIC1, ocw3);
	outb(PIC2, ocw3);
	return (uint16_t)(inb(PIC2) << 8) | inb(PIC1);
}

bool pic_spurious(unsigned irq)
{
	if (irq != 7 && irq != 15)
		return false;
	if (pic_read(0x0B) & (1u << irq))   /* ISR: really in service */
		return false;
	if (irq == 15)
		outb(PIC1, 0x20);           /* master saw a real cascade */
	return true;
}

bool pic_pending(unsigned irq)
{
	return (pic_read(0x0A) >> irq) & 1;  /* IRR */
}
