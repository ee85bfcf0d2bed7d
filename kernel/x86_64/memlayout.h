/* memlayout.h — the bare-metal kernel's virtual address map and the physical
 * placement of the image. One place to read where everything lives.
 *
 *   0x0000_0000_0000_0000  identity map of the first 1 GiB (boot only; removed
 *                          once the kernel runs from the higher half)
 *   0x0000_2000_0000_0000  persistent arena, PLAT_ARENA_BASE (plat.h), up to
 *                          PLAT_ARENA_MAX; 4 KiB pages mapped on demand
 *   0xffff_8000_0000_0000  direct map of all physical memory (2 MiB pages)
 *   0xffff_c000_0000_0000  kernel heap (4 KiB pages, handed to the libc malloc)
 *   0xffff_e000_0000_0000  kernel thread stacks: one KSTACK_STRIDE slot each,
 *                          its lowest page left unmapped as a guard
 *   0xffff_ffff_8000_0000  kernel image: physical 0 + KERNEL_VMA, -mcmodel=kernel
 */
#ifndef X86_MEMLAYOUT_H
#define X86_MEMLAYOUT_H

#define KERNEL_VMA      0xffffffff80000000ul
#define KERNEL_PHYS     0x100000ul             /* load address (1 MiB)  */
#define DMAP_BASE       0xffff800000000000ul
#define DMAP_MAX        (1ul << 39)            /* one PML4 slot: 512 GiB */
#define KHEAP_BASE      0xffffc00000000000ul
#define KSTACK_BASE     0xffffe00000000000ul
#define KSTACK_STRIDE   0x20000ul               /* guard page + stack     */
#define KSTACK_SIZE     0x10000ul               /* 64 KiB                 */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Physical <-> direct-map virtual. Valid for every page of RAM. */
static inline void *phys_to_virt(uint64_t pa) { return (void *)(DMAP_BASE + pa); }
static inline uint64_t virt_to_phys_dmap(const void *va) { return (uint64_t)va - DMAP_BASE; }
/* Physical address of a symbol in the kernel image. */
static inline uint64_t kimg_to_phys(const void *va) { return (uint64_t)va - KERNEL_VMA; }

/* Linker-script symbols: the image's physical extent. */
extern char __kernel_phys_start[], __kernel_end[];
#endif

#endif
