/* trap.h — the interrupt frame every entry stub (isr.S) builds, the IDT and
 * GDT/TSS setup, IRQ handler registration and the panic dump.
 *
 *   higher addresses
 *   ss, rsp, rflags, cs, rip     pushed by the CPU
 *   err                          CPU's error code, or 0 from the stub
 *   vector                       pushed by the stub
 *   rax rbx rcx rdx rsi rdi rbp r8 .. r15   pushed by isr_common
 *   lower addresses (frame pointer)
 */
#ifndef X86_TRAP_H
#define X86_TRAP_H

#include <stdint.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, err;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define TRAP_PF        14
#define TRAP_IRQ_BASE  32               /* 8259 PIC IRQ 0..15 -> 32..47 */

/* Exit codes through QEMU's isa-debug-exit (QEMU exits with 2*code+1). */
#define KEXIT_PASS     0
#define KEXIT_FAIL     1
#define KEXIT_PANIC    3

typedef void (*trap_irq_fn)(struct trap_frame *f);

void trap_init(void);                   /* GDT, TSS, IDT */
void trap_set_irq(unsigned irq, trap_irq_fn fn);
void trap_dispatch(struct trap_frame *f);

/* Prints the dump (vector name, error code, registers, CR2, backtrace) and
 * stops the machine. */
void trap_panic(struct trap_frame *f, const char *why) __attribute__((noreturn));
void kpanic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Leaves QEMU through isa-debug-exit; halts if that device is absent. */
void kexit(unsigned code) __attribute__((noreturn));

#endif
