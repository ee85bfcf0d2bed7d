/* panic.c — the readable crash dump on the serial console: vector name and
 * error code (decoded for #PF), CR2, every general register, control
 * registers and a frame-pointer backtrace (the kernel builds with
 * -fno-omit-frame-pointer); then QEMU exits with KEXIT_PANIC. A fault while
 * dumping stops at once instead of recursing. */
#include <stdbool.h>

#include "console.h"
#include "cpu.h"
#include "kthread.h"
#include "memlayout.h"
#include "pmm.h"
#include "trap.h"
#include "vmm.h"

static const char *const vector_names[32] = {
	"divide error (#DE)", "debug (#DB)", "non-maskable interrupt (NMI)",
	"breakpoint (#BP)", "overflow (#OF)", "bound range exceeded (#BR)",
	"invalid opcode (#UD)", "device not available (#NM)",
	"double fault (#DF)", "coprocessor segment overrun",
	"invalid TSS (#TS)", "segment not present (#NP)",
	"stack-segment fault (#SS)", "general protection fault (#GP)",
	"page fault (#PF)", "reserved 15", "x87 floating-point error (#MF)",
	"alignment check (#AC)", "machine check (#MC)",
	"SIMD floating-point exception (#XM)", "virtualization exception (#VE)",
	"control protection exception (#CP)", "reserved 22", "reserved 23",
	"reserved 24", "reserved 25", "reserved 26", "reserved 27",
	"hypervisor injection (#HV)", "VMM communication (#VC)",
	"security exception (#SX)", "reserved 31",
};

static volatile int panicking;

void kexit(unsigned code)
{
	outl(0xf4, code);
	cpu_cli();
	for (;;)
		cpu_hlt();
}

extern char __text_start[], __text_end[];

static bool in_text(uint64_t a)
{
	return a >= (uint64_t)__text_start && a < (uint64_t)__text_end;
}

/* Walks the rbp chain; every frame must be mapped, 8-aligned and above the
 * previous one, so a corrupt chain ends the walk rather than faulting.
 * gcc builds no frame for a leaf function that needs no stack, so when the
 * trapped code's stack top holds a text address it is printed first, marked
 * "?": probably the leaf's return address, possibly a stale value. */
static void backtrace(uint64_t rip, uint64_t rbp, uint64_t rsp)
{
	int i = 1;
	kprintf("backtrace:\n  #0  %016lx\n", rip);
	if (rsp != 0 && (rsp & 7) == 0 && vmm_is_mapped(rsp) &&
	    in_text(*(uint64_t *)rsp))
		kprintf("  #%-2d %016lx ?\n", i++, *(uint64_t *)rsp);
	unsigned repeats = 0;
	uint64_t last = 0;
	for (int frames = 0; frames < 64; frames++) {
		if (rbp == 0 || (rbp & 7) != 0 || !vmm_is_mapped(rbp) ||
		    !vmm_is_mapped(rbp + 8))
			break;
		uint64_t next = ((uint64_t *)rbp)[0];
		uint64_t ret = ((uint64_t *)rbp)[1];
		if (ret == 0)
			break;
		if (ret == last) {
			repeats++;              /* deep recursion: one line */
		} else {
			if (repeats)
				kprintf("  ... the frame above repeats %u more times\n", repeats);
			repeats = 0;
			kprintf("  #%-2d %016lx\n", i++, ret);
		}
		last = ret;
		if (next <= rbp)
			break;
		rbp = next;
	}
	if (repeats)
		kprintf("  ... the frame above repeats %u more times (walk cut)\n", repeats);
}

static void enter_panic(void)
{
	cpu_cli();
	if (panicking) {
		kprintf("\n*** nested fault during panic; halting\n");
		kexit(KEXIT_PANIC);
	}
	panicking = 1;
}

void trap_panic(struct trap_frame *f, const char *why)
{
	enter_panic();
	const char *name = f->vector < 32 ? vector_names[f->vector] : "interrupt";
	kprintf("\n*** PANIC: %s, vector %lu, error code 0x%lx\n",
		why ? why : name, f->vector, f->err);
	if (f->vector == TRAP_PF)
		kprintf("fault address CR2=%016lx (%s, %s, %s%s)\n", read_cr2(),
			(f->err & 2) ? "write" : "read",
			(f->err & 1) ? "protection violation" : "page not present",
			(f->err & 4) ? "user" : "kernel",
			(f->err & 16) ? ", instruction fetch" : "");
	struct kthread *t = kthread_current();
	kprintf("thread %s\n", t ? t->name : "(boot, before threads)");
	kprintf("RIP=%016lx CS=%04lx RFLAGS=%016lx\n", f->rip, f->cs, f->rflags);
	kprintf("RSP=%016lx SS=%04lx\n", f->rsp, f->ss);
	kprintf("RAX=%016lx RBX=%016lx RCX=%016lx\n", f->rax, f->rbx, f->rcx);
	kprintf("RDX=%016lx RSI=%016lx RDI=%016lx\n", f->rdx, f->rsi, f->rdi);
	kprintf("RBP=%016lx R8 =%016lx R9 =%016lx\n", f->rbp, f->r8, f->r9);
	kprintf("R10=%016lx R11=%016lx R12=%016lx\n", f->r10, f->r11, f->r12);
	kprintf("R13=%016lx R14=%016lx R15=%016lx\n", f->r13, f->r14, f->r15);
	kprintf("CR0=%016lx CR2=%016lx CR3=%016lx CR4=%016lx\n", read_cr0(),
		read_cr2(), read_cr3(), read_cr4());
	uint64_t cr2 = read_cr2();
	if (cr2 >= KSTACK_BASE && (cr2 - KSTACK_BASE) % KSTACK_STRIDE < PMM_PAGE &&
	    (cr2 - KSTACK_BASE) / KSTACK_STRIDE < 4096)
		kprintf("CR2 is the guard page of thread stack slot %lu: stack overflow\n",
			(cr2 - KSTACK_BASE) / KSTACK_STRIDE);
	backtrace(f->rip, f->rbp, f->rsp);
	kprintf("*** end of panic dump\n");
	kexit(KEXIT_PANIC);
}

void kpanic(const char *fmt, ...)
{
	enter_panic();
	va_list ap;
	va_start(ap, fmt);
	kprintf("\n*** PANIC: ");
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	backtrace((uint64_t)__builtin_return_address(0),
		  *(uint64_t *)__builtin_frame_address(0), 0);
	kprintf("*** end of panic dump\n");
	kexit(KEXIT_PANIC);
}
