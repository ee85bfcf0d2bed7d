/* boot.S — the multiboot (v1) header and the 32-bit entry: builds the boot
 * page tables (identity, direct map and higher half over the first 1 GiB),
 * enables PAE, long mode, NX, write-protect and SSE, and calls kmain(magic,
 * info) on the kernel stack in the higher half. */
#include "memlayout.h"

#define MB_MAGIC   0x1BADB002
#define MB_FLAGS   0x00000003      /* page-aligned modules, memory map */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, boot_mb_magic
	movl %ebx, boot_mb_info
	movl $boot_stack_top, %esp

	/* Long mode available? (CPUID 0x80000001 EDX bit 29) */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz no_long_mode

	/* Zero the four boot tables. */
	movl $boot_pml4, %edi
	xorl %eax, %eax
	movl $(4 * 4096 / 4), %ecx
	rep stosl

	/* PML4[0] and PML4[256] (direct map) share one PDPT; PML4[511]
	 * -> PDPT_hi[510] (0xffffffff80000000). Both PDPTs use one PD of
	 * 512 2 MiB pages = physical 0..1 GiB. */
	movl $boot_pdpt, %eax
	orl $3, %eax
	movl %eax, boot_pml4
	movl %eax, boot_pml4 + 256 * 8
	movl $boot_pdpt_hi, %eax
	orl $3, %eax
	movl %eax, boot_pml4 + 511 * 8
	movl $boot_pd, %eax
	orl $3, %eax
	movl %eax, boot_pdpt
	movl %eax, boot_pdpt_hi + 510 * 8

	movl $boot_pd, %edi
	movl $0x83, %eax                /* present, writable, 2 MiB */
	movl $512, %ecx
1:	movl %eax, (%edi)
	movl $0, 4(%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b

	movl %cr4, %eax
	orl $((1 << 5) | (1 << 9) | (1 << 10)), %eax   /* PAE, OSFXSR, OSXMMEXCPT */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx          /* EFER: LME, NXE */
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax
	wrmsr
	movl %cr0, %eax
	andl $~(1 << 2), %eax           /* EM off: SSE usable */
	orl $((1 << 31) | (1 << 16) | (1 << 1)), %eax  /* PG, WP, MP */
	movl %eax, %cr0

	lgdt boot_gdtr
	ljmp $0x08, $long_entry

no_long_mode:
	movl $no_lm_msg, %esi
2:	lodsb
	testb %al, %al
	jz 3f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 2b
3:	hlt
	jmp 3b

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $kstack_top, %rsp
	xorq %rbp, %rbp
	movl boot_mb_magic, %edi
	movl boot_mb_info, %esi
	movabsq $kmain, %rax
	call *%rax
4:	cli
	hlt
	jmp 4b

	.section .boot.data, "aw"
	.align 16
boot_gdt:
	.quad 0
	.quad 0x00209A0000000000        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x0000920000000000        /* 0x10: data */
boot_gdtr:
	.word boot_gdtr - boot_gdt - 1
	.long boot_gdt
	.globl boot_mb_magic, boot_mb_info
boot_mb_magic:	.long 0
boot_mb_info:	.long 0
no_lm_msg:	.asciz "phantom: this CPU has no long mode\r\n"

	.align 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pdpt_hi:	.skip 4096
boot_pd:	.skip 4096
boot_stack:	.skip 4096
boot_stack_top:

	.section .bss
	.align 16
	.globl kstack_bottom, kstack_top
kstack_bottom:
	.skip 65536
kstack_top:
