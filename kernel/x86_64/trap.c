/* trap.c — the GDT (kernel code and data, one TSS), the IDT over the isr.S
 * stubs, and trap_dispatch: page faults go to vmm's fault path, IRQs to their
 * registered handler with an EOI, everything else is a panic. The double
 * fault runs on its own IST stack so a blown kernel stack still dumps. */
#include <stddef.h>

#include "cpu.h"
#include "kthread.h"
#include "pic.h"
#include "trap.h"
#include "vmm.h"

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct __attribute__((packed)) idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
};

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_TSS   0x18
#define IST_DF    1

extern const uint64_t isr_table[48];

static uint64_t gdt[5];
static struct tss64 tss;
static struct idt_gate idt[256];
static uint8_t df_stack[16384] __attribute__((aligned(16)));
static trap_irq_fn irq_handlers[16];

static void gdt_init(void)
{
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	gdt[0] = 0;
	gdt[1] = 0x00209A0000000000ul;             /* 64-bit code, DPL 0 */
	gdt[2] = 0x0000920000000000ul;             /* data               */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		 (0x89ul << 40) | (((limit >> 16) & 0xf) << 48) |
		 (((base >> 24) & 0xff) << 56);          /* available TSS      */
	gdt[4] = base >> 32;
	tss.ist[IST_DF - 1] = (uint64_t)(df_stack + sizeof(df_stack));
	tss.iomap_base = sizeof(tss);

	struct desc_ptr p = { sizeof(gdt) - 1, (uint64_t)gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"ltr %w3"
		: : "m"(p), "i"(SEL_KCODE), "r"(SEL_KDATA), "r"(SEL_TSS)
		: "rax", "memory");
}

static void idt_set(unsigned vec, uint64_t handler, uint8_t ist)
{
	idt[vec] = (struct idt_gate){
		.off_lo = handler & 0xffff,
		.sel = SEL_KCODE,
		.ist = ist,
		.type = 0x8E,                           /* present interrupt gate */
		.off_mid = (handler >> 16) & 0xffff,
		.off_hi = handler >> 32,
	};
}

void trap_init(void)
{
	gdt_init();
	for (unsigned v = 0; v < 48; v++)
		idt_set(v, isr_table[v], v == 8 ? IST_DF : 0);
	struct desc_ptr p = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

void trap_set_irq(unsigned irq, trap_irq_fn fn)
{
	if (irq < 16)
		irq_handlers[irq] = fn;
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector == TRAP_PF) {
		if (vmm_page_fault(f->err, read_cr2(), (f->rflags >> 9) & 1))
			return;
		trap_panic(f, NULL);
	}
	if (f->vector < TRAP_IRQ_BASE)
		trap_panic(f, NULL);
	unsigned irq = (unsigned)f->vector - TRAP_IRQ_BASE;
	if (pic_spurious(irq))
		return;
	if (irq_handlers[irq] != NULL)
		irq_handlers[irq](f);
	pic_eoi(irq);
	/* After the EOI: the next thread may run for a whole slice. */
	kthread_preempt_point();
}
