/* kheap.c — backs the kernel heap with frames at boot. The region is fixed in
 * size (no growth on demand yet): malloc failing means the heap= command-line
 * value is too small. */
#include <stddef.h>

#include "kheap.h"
#include "klibc.h"
#include "memlayout.h"
#include "pmm.h"
#include "trap.h"
#include "vmm.h"

uint64_t kheap_init(uint64_t bytes)
{
	uint64_t pages = (bytes + PMM_PAGE - 1) / PMM_PAGE;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pa = pmm_alloc();
		if (pa == 0)
			kpanic("kheap: out of memory after %lu of %lu pages", i, pages);
		int rc = vmm_map(KHEAP_BASE + i * PMM_PAGE, pa, VMM_W | VMM_NX);
		if (rc < 0)
			kpanic("kheap: vmm_map failed (%d)", rc);
	}
	klibc_heap_init((void *)KHEAP_BASE, pages * PMM_PAGE);
	return pages * PMM_PAGE;
}
