/* switch.S — the kernel thread context switch and the first frame of a new
 * thread. Only callee-saved registers are switched; the caller (kthread.c)
 * saves FPU/SSE state and runs with interrupts disabled. */

	.text
/* void kthread_switch(uint64_t *save_rsp, uint64_t new_rsp) */
	.globl kthread_switch
kthread_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* A new thread's stack returns here: rbp 0 ends backtraces. */
	.globl kthread_trampoline
kthread_trampoline:
	xorl %ebp, %ebp
	andq $-16, %rsp
	call kthread_entry
	ud2
