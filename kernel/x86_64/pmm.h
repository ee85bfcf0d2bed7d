/* pmm.h — physical page frames: a bitmap allocator over the available RAM of
 * the boot memory map. Frames are 4 KiB; addresses are physical. */
#ifndef X86_PMM_H
#define X86_PMM_H

#include <stddef.h>
#include <stdint.h>

#define PMM_PAGE 4096ul
#define PMM_MAX_REGIONS 32

struct pmm_region {
	uint64_t base, len;                 /* available RAM */
};

/* Builds the bitmap right after the kernel image; everything outside the
 * regions, below 1 MiB, the image and the bitmap itself stays allocated. */
void pmm_init(const struct pmm_region *r, unsigned n);
/* A free frame's physical address, or 0 when memory is exhausted. */
uint64_t pmm_alloc(void);
/* Same, zero-filled. */
uint64_t pmm_alloc_zeroed(void);
/* n physically contiguous zeroed frames (for device rings and DMA), or 0. */
uint64_t pmm_alloc_contig(unsigned n);
void pmm_free(uint64_t pa);
uint64_t pmm_total_bytes(void);     /* RAM in the memory map */
uint64_t pmm_free_bytes(void);
uint64_t pmm_top(void);             /* end of the highest RAM byte */

#endif
