/* vmm.c — the kernel's page tables. Tables are reached through the direct
 * map; table pages come from pmm and are never freed (the arena's tables are
 * a small fraction of the arena). One CPU, so a changed entry needs only a
 * local invlpg; callers in interrupt context are safe because every update
 * runs with interrupts disabled. */
#include <stddef.h>

#include "cpu.h"
#include "kthread.h"
#include "memlayout.h"
#include "pmm.h"
#include "trap.h"
#include "vmm.h"

static uint64_t *vmm_pml4;
static plat_fault_fn vmm_hook;
static void *vmm_hook_ctx;
static bool vmm_boot_in_hook;       /* in_hook before threads exist */

static bool canonical(uint64_t va)
{
	uint64_t top = va >> 47;
	return top == 0 || top == 0x1ffff;
}

static unsigned idx(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

/* The level-0 entry for va, creating tables when create; NULL if a table
 * is missing (and !create), memory ran out, or a large page covers va. */
static uint64_t *walk(uint64_t va, bool create)
{
	uint64_t *table = vmm_pml4;
	for (int level = 3; level > 0; level--) {
		uint64_t *e = &table[idx(va, level)];
		if (!(*e & VMM_P)) {
			if (!create)
				return NULL;
			uint64_t pa = pmm_alloc_zeroed();
			if (pa == 0)
				return NULL;
			*e = pa | VMM_P | VMM_W;
		} else if (*e & VMM_PS) {
			return NULL;
		}
		table = phys_to_virt(*e & VMM_ADDR);
	}
	return &table[idx(va, 0)];
}

void vmm_init(void)
{
	vmm_pml4 = phys_to_virt(read_cr3() & VMM_ADDR);
	/* PML4[0] (identity) shares its PDPT with the direct map: unlink it
	 * before the direct map grows past the boot's first 1 GiB. */
	vmm_pml4[0] = 0;
	write_cr3(read_cr3());

	uint64_t *pdpt = phys_to_virt(vmm_pml4[idx(DMAP_BASE, 3)] & VMM_ADDR);
	for (uint64_t pa = 1ul << 30; pa < pmm_top(); pa += 1ul << 21) {
		uint64_t *e = &pdpt[(pa >> 30) & 511];
		if (!(*e & VMM_P)) {
			uint64_t t = pmm_alloc_zeroed();
			if (t == 0)
				kpanic("vmm: no memory for the direct map");
			*e = t | VMM_P | VMM_W;
		}
		uint64_t *pd = phys_to_virt(*e & VMM_ADDR);
		pd[(pa >> 21) & 511] = pa | VMM_P | VMM_W | VMM_PS | VMM_NX;
	}
	write_cr3(read_cr3());
}

int vmm_map(uint64_t va, uint64_t pa, uint64_t flags)
{
	if ((va & 0xfff) || (pa & 0xfff) || !canonical(va))
		return -ERR_INVAL;
	uint64_t f = cpu_save_irq();
	int rc = 0;
	uint64_t *e = walk(va, true);
	if (e == NULL)
		rc = -ERR_NOMEM;
	else if (*e & (VMM_P | VMM_FRAME))
		rc = -ERR_EXIST;
	else {
		uint64_t p = (flags == VMM_FRAME) ? 0 : VMM_P;
		*e = pa | p | VMM_FRAME | (flags & VMM_PROT_BITS);
		invlpg(va);
	}
	cpu_restore_irq(f);
	return rc;
}

int vmm_unmap(uint64_t va, uint64_t *pa)
{
	uint64_t f = cpu_save_irq();
	int rc = -ERR_NOENT;
	uint64_t *e = walk(va & ~0xffful, false);
	if (e != NULL && (*e & VMM_FRAME)) {
		if (pa != NULL)
			*pa = *e & VMM_ADDR;
		*e = 0;
		invlpg(va);
		rc = 0;
	}
	cpu_restore_irq(f);
	return rc;
}

int vmm_protect(uint64_t va, uint64_t prot)
{
	uint64_t f = cpu_save_irq();
	int rc = -ERR_NOENT;
	uint64_t *e = walk(va & ~0xffful, false);
	if (e != NULL && (*e & VMM_FRAME)) {
		*e = (*e & ~VMM_PROT_BITS) | (prot & VMM_PROT_BITS);
		invlpg(va);
		rc = 0;
	}
	cpu_restore_irq(f);
	return rc;
}

int vmm_set_pte(uint64_t va, uint64_t pte, uint64_t *old)
{
	if ((va & 0xfff) || !canonical(va))
		return -ERR_INVAL;
	uint64_t f = cpu_save_irq();
	int rc = 0;
	uint64_t *e = walk(va, true);
	if (e == NULL) {
		rc = -ERR_NOMEM;
	} else {
		*old = *e;
		*e = pte;
		invlpg(va);
	}
	cpu_restore_irq(f);
	return rc;
}

int vmm_walk_range(uint64_t lo, uint64_t hi, bool create, vmm_pte_fn fn, void *ctx)
{
	uint64_t va = lo & ~0xffful;
	while (va < hi) {
		uint64_t f = cpu_save_irq();
		uint64_t *table = vmm_pml4;
		int level = 3, rc = 0;
		for (; level > 0; level--) {
			uint64_t *e = &table[idx(va, level)];
			if (!(*e & VMM_P)) {
				uint64_t pa = create ? pmm_alloc_zeroed() : 0;
				if (pa == 0)
					break;
				*e = pa | VMM_P | VMM_W;
			} else if (*e & VMM_PS) {
				rc = -ERR_INVAL;
				break;
			}
			table = phys_to_virt(*e & VMM_ADDR);
		}
		if (rc == 0 && level > 0 && create)
			rc = -ERR_NOMEM;
		if (rc == 0 && level > 0) {             /* skip the absent table */
			uint64_t span = 1ul << (12 + 9 * level);
			va = (va & ~(span - 1)) + span;
		}
		for (unsigned i = idx(va, 0); rc == 0 && level == 0 && i < 512 && va < hi;
		     i++, va += 4096)
			rc = fn(va, &table[i], ctx);
		cpu_restore_irq(f);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int vmm_query(uint64_t va, uint64_t *pte)
{
	uint64_t f = cpu_save_irq();
	uint64_t *e = walk(va & ~0xffful, false);
	int rc = (e != NULL && *e != 0) ? 0 : -ERR_NOENT;
	if (rc == 0)
		*pte = *e;
	cpu_restore_irq(f);
	return rc;
}

int vmm_test_clear_dirty(uint64_t va, bool *dirty)
{
	uint64_t f = cpu_save_irq();
	int rc = -ERR_NOENT;
	uint64_t *e = walk(va & ~0xffful, false);
	if (e != NULL && (*e & VMM_FRAME)) {
		*dirty = (*e & VMM_D) != 0;
		*e &= ~VMM_D;
		invlpg(va);
		rc = 0;
	}
	cpu_restore_irq(f);
	return rc;
}

bool vmm_is_mapped(uint64_t va)
{
	if (!canonical(va))
		return false;
	uint64_t *table = vmm_pml4;
	for (int level = 3; level >= 0; level--) {
		uint64_t e = table[idx(va, level)];
		if (!(e & VMM_P))
			return false;
		if (level == 0 || (e & VMM_PS))
			return true;
		table = phys_to_virt(e & VMM_ADDR);
	}
	return false;
}

void vmm_set_fault_hook(plat_fault_fn fn, void *ctx)
{
	uint64_t f = cpu_save_irq();
	vmm_hook = fn;
	vmm_hook_ctx = ctx;
	cpu_restore_irq(f);
}

bool vmm_page_fault(uint64_t err, uint64_t addr, bool irqs_were_on)
{
	/* Reserved-bit faults are table corruption; a fault inside the hook
	 * on the same thread would recurse forever: both are fatal. */
	if ((err & 8) || vmm_hook == NULL)
		return false;
	if (addr < PLAT_ARENA_BASE || addr - PLAT_ARENA_BASE >= PLAT_ARENA_MAX)
		return false;
	struct kthread *t = kthread_current();
	bool *in_hook = t ? &t->in_fault_hook : &vmm_boot_in_hook;
	if (*in_hook)
		return false;
	*in_hook = true;
	if (irqs_were_on)
		cpu_sti();
	bool ok = vmm_hook(vmm_hook_ctx, (void *)addr, (err & 2) != 0);
	cpu_cli();
	*in_hook = false;
	return ok;
}
