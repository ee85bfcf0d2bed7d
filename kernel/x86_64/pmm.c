/* pmm.c — the page-frame bitmap (bit set = frame in use). The bitmap sits in
 * RAM right after the kernel image and is reached through the direct map,
 * which the boot tables already cover for the first 1 GiB. One CPU: the
 * allocator is guarded by disabling interrupts. */
#include <stdbool.h>
#include <string.h>

#include "cpu.h"
#include "memlayout.h"
#include "pmm.h"
#include "trap.h"

static uint64_t *pmm_bits;          /* direct-map pointer to the bitmap */
static uint64_t pmm_nframes;
static uint64_t pmm_nfree;
static uint64_t pmm_total;
static uint64_t pmm_hint;           /* no free frame below this word */

static void bit_set(uint64_t f) { pmm_bits[f / 64] |= 1ul << (f % 64); }
static void bit_clear(uint64_t f) { pmm_bits[f / 64] &= ~(1ul << (f % 64)); }
static bool bit_test(uint64_t f) { return (pmm_bits[f / 64] >> (f % 64)) & 1; }

static void mark_range(uint64_t lo, uint64_t hi, bool used)
{
	for (uint64_t f = lo / PMM_PAGE; f < hi / PMM_PAGE && f < pmm_nframes; f++) {
		if (used && !bit_test(f)) {
			bit_set(f);
			pmm_nfree--;
		} else if (!used && bit_test(f)) {
			bit_clear(f);
			pmm_nfree++;
		}
	}
}

void pmm_init(const struct pmm_region *r, unsigned n)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < n; i++) {
		if (r[i].base + r[i].len > top)
			top = r[i].base + r[i].len;
		pmm_total += r[i].len;
	}
	if (top > DMAP_MAX)
		top = DMAP_MAX;
	pmm_nframes = top / PMM_PAGE;

	uint64_t words = (pmm_nframes + 63) / 64;
	uint64_t bm_lo = kimg_to_phys(__kernel_end);
	uint64_t bm_hi = (bm_lo + words * 8 + PMM_PAGE - 1) & ~(PMM_PAGE - 1);
	bool fits = false;
	for (unsigned i = 0; i < n; i++)
		if (bm_lo >= r[i].base && bm_hi <= r[i].base + r[i].len)
			fits = true;
	if (!fits || bm_hi > (1ul << 30))
		kpanic("pmm: no RAM for the frame bitmap at %lx..%lx", bm_lo, bm_hi);
	pmm_bits = phys_to_virt(bm_lo);
	memset(pmm_bits, 0xff, words * 8);
	pmm_nfree = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t lo = (r[i].base + PMM_PAGE - 1) & ~(PMM_PAGE - 1);
		uint64_t hi = (r[i].base + r[i].len) & ~(PMM_PAGE - 1);
		if (hi > lo)
			mark_range(lo, hi, false);
	}
	mark_range(0, 0x100000, true);
	mark_range(KERNEL_PHYS, bm_hi, true);
	pmm_hint = 0;
}

uint64_t pmm_alloc(void)
{
	uint64_t flags = cpu_save_irq();
	uint64_t words = (pmm_nframes + 63) / 64, pa = 0;
	for (uint64_t w = pmm_hint; w < words; w++) {
		if (pmm_bits[w] == ~0ul)
			continue;
		uint64_t f = w * 64 + (uint64_t)__builtin_ctzll(~pmm_bits[w]);
		if (f >= pmm_nframes)
			break;
		bit_set(f);
		pmm_nfree--;
		pmm_hint = w;
		pa = f * PMM_PAGE;
		break;
	}
	cpu_restore_irq(flags);
	return pa;
}

uint64_t pmm_alloc_zeroed(void)
{
	uint64_t pa = pmm_alloc();
	if (pa != 0)
		memset(phys_to_virt(pa), 0, PMM_PAGE);
	return pa;
}

uint64_t pmm_alloc_contig(unsigned n)
{
	uint64_t flags = cpu_save_irq(), run = 0, pa = 0;
	for (uint64_t f = pmm_hint * 64; f < pmm_nframes && n > 0; f++) {
		run = bit_test(f) ? 0 : run + 1;
		if (run == n) {
			uint64_t first = f + 1 - n;
			for (uint64_t g = first; g <= f; g++)
				bit_set(g);
			pmm_nfree -= n;
			pa = first * PMM_PAGE;
			break;
		}
	}
	cpu_restore_irq(flags);
	if (pa != 0)
		memset(phys_to_virt(pa), 0, n * PMM_PAGE);
	return pa;
}

void pmm_free(uint64_t pa)
{
	uint64_t f = pa / PMM_PAGE;
	if ((pa & (PMM_PAGE - 1)) != 0 || f >= pmm_nframes || !bit_test(f))
		kpanic("pmm_free: bad or free frame %lx", pa);
	uint64_t flags = cpu_save_irq();
	bit_clear(f);
	pmm_nfree++;
	if (f / 64 < pmm_hint)
		pmm_hint = f / 64;
	cpu_restore_irq(flags);
}

uint64_t pmm_total_bytes(void) { return pmm_total; }
uint64_t pmm_free_bytes(void) { return pmm_nfree * PMM_PAGE; }
uint64_t pmm_top(void) { return pmm_nframes * PMM_PAGE; }
