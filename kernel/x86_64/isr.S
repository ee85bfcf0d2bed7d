/* isr.S — interrupt entry stubs for vectors 0..47 and the common path: every
 * stub leaves the same struct trap_frame (trap.h) on the stack, with a zero
 * error code where the CPU pushes none, and calls trap_dispatch(frame). */

	.text
.macro STUB_NOERR vec
	.align 16
isr_\vec:
	pushq $0
	pushq $\vec
	jmp isr_common
.endm
.macro STUB_ERR vec
	.align 16
isr_\vec:
	pushq $\vec
	jmp isr_common
.endm

/* Vectors that push an error code: 8 10 11 12 13 14 17 21 29 30. */
STUB_NOERR 0
STUB_NOERR 1
STUB_NOERR 2
STUB_NOERR 3
STUB_NOERR 4
STUB_NOERR 5
STUB_NOERR 6
STUB_NOERR 7
STUB_ERR   8
STUB_NOERR 9
STUB_ERR   10
STUB_ERR   11
STUB_ERR   12
STUB_ERR   13
STUB_ERR   14
STUB_NOERR 15
STUB_NOERR 16
STUB_ERR   17
STUB_NOERR 18
STUB_NOERR 19
STUB_NOERR 20
STUB_ERR   21
STUB_NOERR 22
STUB_NOERR 23
STUB_NOERR 24
STUB_NOERR 25
STUB_NOERR 26
STUB_NOERR 27
STUB_NOERR 28
STUB_ERR   29
STUB_ERR   30
STUB_NOERR 31
.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
STUB_NOERR \v
.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	/* Link the interrupted frame into the rbp chain so a backtrace taken
	 * inside the handler continues through the interrupted code. */
	movq 0x88(%rsp), %rax           /* frame->rip */
	pushq %rax
	pushq %rbp
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp                  /* vector, error code */
	iretq

	.section .rodata
	.align 8
	.globl isr_table
isr_table:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad isr_\v
.endr
