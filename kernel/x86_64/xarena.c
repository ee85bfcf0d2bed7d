/* xarena.c — arena pages over the page tables (states in xarena.h). The
 * kernel's own fault path (xarena_fault, installed as the vmm hook) first
 * materializes zero pages the protection allows, so the core's handler sees
 * exactly the faults the hosted build's would: accesses the protection
 * forbids. Page-table updates run with interrupts off (one CPU), and each
 * page changes with a single entry store. */
#include <stdbool.h>
#include <string.h>

#include "cpu.h"
#include "memlayout.h"
#include "pmm.h"
#include "vmm.h"
#include "xarena.h"

#define XARENA_ZR VMM_SOFT1
#define XARENA_ZW VMM_SOFT2

static struct {
	bool reserved;
	uint64_t size;
	plat_fault_fn fn;
	void *ctx;
	uint64_t resident;
} xa;

static int prot_bits(enum plat_prot prot, uint64_t *frame_bits, uint64_t *zero_bits)
{
	switch (prot) {
	case PLAT_PROT_NONE: *frame_bits = 0; *zero_bits = 0; return 0;
	case PLAT_PROT_READ: *frame_bits = VMM_P; *zero_bits = XARENA_ZR; return 0;
	case PLAT_PROT_RW:
		*frame_bits = VMM_P | VMM_W;
		*zero_bits = XARENA_ZR | XARENA_ZW;
		return 0;
	}
	return -ERR_INVAL;
}

static int check_range(const void *addr, size_t len)
{
	uint64_t a = (uint64_t)addr;
	if (!xa.reserved || a % PLAT_PAGE_SIZE || len % PLAT_PAGE_SIZE)
		return -ERR_INVAL;
	if (a < PLAT_ARENA_BASE || a - PLAT_ARENA_BASE > xa.size ||
	    len > xa.size - (a - PLAT_ARENA_BASE))
		return -ERR_RANGE;
	return 0;
}

static bool xarena_fault(void *ctx, void *addr, bool is_write)
{
	(void)ctx;
	uint64_t va = (uint64_t)addr & ~0xffful, pte;
	if (!xa.reserved || va - PLAT_ARENA_BASE >= xa.size)
		return false;
	uint64_t f = cpu_save_irq();
	bool done = false;
	if (vmm_query(va, &pte) == 0 && !(pte & VMM_FRAME) &&
	    (pte & (is_write ? XARENA_ZW : XARENA_ZR))) {
		uint64_t pa = pmm_alloc_zeroed(), old;
		uint64_t bits = VMM_FRAME | VMM_P | VMM_NX | ((pte & XARENA_ZW) ? VMM_W : 0);
		if (pa != 0 && vmm_set_pte(va, pa | bits, &old) == 0) {
			xa.resident++;
			done = true;
		} else if (pa != 0) {
			pmm_free(pa);
		}
	} else if (vmm_query(va, &pte) == 0 && (pte & VMM_P) &&
		   (!is_write || (pte & VMM_W))) {
		done = true;            /* changed by another thread meanwhile */
	}
	plat_fault_fn fn = xa.fn;
	void *fctx = xa.ctx;
	cpu_restore_irq(f);
	if (done)
		return true;
	return fn != NULL && fn(fctx, addr, is_write);
}

int xarena_reserve(uint64_t size, void **base)
{
	if (base == NULL || size == 0 || size % PLAT_PAGE_SIZE)
		return -ERR_INVAL;
	if (size > PLAT_ARENA_MAX)
		return -ERR_RANGE;
	if (xa.reserved)
		return -ERR_BUSY;
	xa.size = size;
	xa.reserved = true;
	vmm_set_fault_hook(xarena_fault, NULL);
	*base = (void *)PLAT_ARENA_BASE;
	return 0;
}

static int release_pte(uint64_t va, uint64_t *pte, void *ctx)
{
	(void)ctx;
	if (*pte & VMM_FRAME) {
		pmm_free(*pte & VMM_ADDR);
		xa.resident--;
	}
	if (*pte) {
		*pte = 0;
		invlpg(va);
	}
	return 0;
}

int xarena_release(void)
{
	if (!xa.reserved)
		return -ERR_INVAL;
	int rc = vmm_walk_range(PLAT_ARENA_BASE, PLAT_ARENA_BASE + xa.size, false,
				release_pte, NULL);
	vmm_set_fault_hook(NULL, NULL);
	xa.reserved = false;
	xa.fn = NULL;
	return rc;
}

struct protect_args {
	uint64_t frame_bits, zero_bits;
};

static int protect_pte(uint64_t va, uint64_t *pte, void *ctx)
{
	struct protect_args *p = ctx;
	uint64_t old = *pte;
	if (old & VMM_FRAME)
		*pte = (old & ~(VMM_P | VMM_W)) | p->frame_bits;
	else
		*pte = p->zero_bits;
	if (*pte != old)
		invlpg(va);
	return 0;
}

int xarena_protect(void *addr, size_t len, enum plat_prot prot)
{
	struct protect_args p;
	int rc = check_range(addr, len);
	if (rc == 0)
		rc = prot_bits(prot, &p.frame_bits, &p.zero_bits);
	if (rc != 0)
		return rc;
	/* Making untouched pages accessible needs their entries; making them
	 * inaccessible does not (absent tables already mean "none"). */
	return vmm_walk_range((uint64_t)addr, (uint64_t)addr + len,
			      prot != PLAT_PROT_NONE, protect_pte, &p);
}

static int discard_pte(uint64_t va, uint64_t *pte, void *ctx)
{
	(void)ctx;
	uint64_t old = *pte;
	if (!(old & VMM_FRAME))
		return 0;               /* already zeros */
	*pte = ((old & VMM_P) ? XARENA_ZR : 0) | ((old & VMM_W) ? XARENA_ZW : 0);
	invlpg(va);
	pmm_free(old & VMM_ADDR);
	xa.resident--;
	return 0;
}

int xarena_discard(void *addr, size_t len)
{
	int rc = check_range(addr, len);
	if (rc != 0)
		return rc;
	return vmm_walk_range((uint64_t)addr, (uint64_t)addr + len, false, discard_pte, NULL);
}

int xarena_page_fill(void *addr, const void *src, enum plat_prot prot)
{
	uint64_t fb, zb, old;
	int rc = check_range(addr, PLAT_PAGE_SIZE);
	if (rc == 0)
		rc = prot_bits(prot, &fb, &zb);
	if (rc != 0)
		return rc;
	/* The copy goes to a fresh frame first; one entry store then swaps it
	 * in, so no thread ever sees a partial page. */
	uint64_t pa = pmm_alloc();
	if (pa == 0)
		return -ERR_NOMEM;
	memcpy(phys_to_virt(pa), src, PLAT_PAGE_SIZE);
	uint64_t f = cpu_save_irq();
	rc = vmm_set_pte((uint64_t)addr, pa | VMM_FRAME | VMM_NX | fb, &old);
	if (rc == 0) {
		if (old & VMM_FRAME)
			pmm_free(old & VMM_ADDR);
		else
			xa.resident++;
	}
	cpu_restore_irq(f);
	if (rc != 0)
		pmm_free(pa);
	return rc;
}

int xarena_set_fault_handler(plat_fault_fn fn, void *ctx)
{
	uint64_t f = cpu_save_irq();
	xa.fn = fn;
	xa.ctx = ctx;
	cpu_restore_irq(f);
	return 0;
}

uint64_t xarena_resident_pages(void)
{
	return xa.resident;
}
