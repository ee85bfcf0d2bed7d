/* fs_start.c — a tiny freestanding runtime for the link tests: _start, raw
 * Linux system calls for output and exit, a heap in .bss for the kernel
 * libc. The test's fs_main() runs in user space on objects built with the
 * kernel's flags (-mcmodel=kernel code works when linked below 2 GiB). */
#include <stddef.h>
#include <stdint.h>

#include "fs_test.h"
#include "klibc.h"

static unsigned char heap[48u << 20] __attribute__((aligned(4096)));

static long sys3(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static void console(const char *s, size_t len)
{
	while (len) {
		long n = sys3(1 /* write */, 1, (long)s, (long)len);
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

__attribute__((noreturn)) static void die(const char *why)
{
	(void)why;
	sys3(231 /* exit_group */, 99, 0, 0);
	__builtin_unreachable();
}

static int clock_ns(int clk, uint64_t *ns)
{
	struct { long s, ns; } ts;

	if (sys3(228 /* clock_gettime */, clk, (long)&ts, 0) != 0)
		return -1;
	*ns = (uint64_t)ts.s * 1000000000u + (uint64_t)ts.ns;
	return 0;
}

int fs_getrandom(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len) {
		long n = sys3(318 /* getrandom */, (long)p, (long)len, 0);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

__attribute__((noreturn, used)) void fs_entry(void)
{
	struct klibc_hooks h = { .console_write = console, .abort = die,
				 .clock_ns = clock_ns };

	klibc_set_hooks(&h);
	klibc_heap_init(heap, sizeof heap);
	sys3(231, fs_main() == 0 ? 0 : 1, 0, 0);
	__builtin_unreachable();
}

/* The kernel enters with an aligned stack; Linux gives _start rsp % 16 == 0,
 * and a call leaves it as every C function expects. */
__asm__(".globl _start\n_start:\n\txor %ebp, %ebp\n\tcall fs_entry\n\tud2\n");
