/* vmm.h — 4-level paging on the one kernel address space: map, unmap and
 * protect 4 KiB pages (the arena and the kernel heap), read and clear the
 * hardware dirty bit, and the page-fault path to the platform fault hook.
 *
 *   page-table entry (4 KiB page)
 *   63  62..52  51........12  11..9   8  7   6  5  4   3   2  1  0
 *   NX  avail   frame addr    avail   G PAT  D  A PCD PWT U  W  P
 *                             bit 9: VMM_FRAME, the entry owns a frame even
 *                             while P is clear (PLAT_PROT_NONE); bits 10-11:
 *                             VMM_SOFT1/2, meaning chosen by the range's owner
 */
#ifndef X86_VMM_H
#define X86_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "plat.h"

#define VMM_P      (1ul << 0)
#define VMM_W      (1ul << 1)
#define VMM_A      (1ul << 5)
#define VMM_D      (1ul << 6)
#define VMM_PS     (1ul << 7)
#define VMM_FRAME  (1ul << 9)
#define VMM_SOFT1  (1ul << 10)      /* free for the owner of the range */
#define VMM_SOFT2  (1ul << 11)
#define VMM_NX     (1ul << 63)
#define VMM_ADDR   0x000ffffffffff000ul
/* The bits vmm_protect may change. */
#define VMM_PROT_BITS (VMM_P | VMM_W | VMM_NX)

/* Adopts the boot tables, drops the identity map and extends the direct
 * map over all RAM. */
void vmm_init(void);

/* Maps the 4 KiB page at va to frame pa with flags (VMM_W, VMM_NX; VMM_P is
 * implied unless flags hold VMM_FRAME alone, which maps it inaccessible).
 * -ERR_EXIST if va already holds a frame, -ERR_NOMEM without table memory,
 * -ERR_INVAL for an unaligned or non-canonical va. */
int vmm_map(uint64_t va, uint64_t pa, uint64_t flags);
/* Removes the mapping; *pa gets its frame. -ERR_NOENT if none. */
int vmm_unmap(uint64_t va, uint64_t *pa);
/* Replaces the VMM_PROT_BITS of a mapped page (clear VMM_P for no access;
 * the frame stays). -ERR_NOENT if va holds no frame. */
int vmm_protect(uint64_t va, uint64_t prot);
/* The page's entry if it is not empty, else -ERR_NOENT. */
int vmm_query(uint64_t va, uint64_t *pte);
/* Returns whether the page was written since the last call and clears the
 * dirty bit. -ERR_NOENT if va holds no frame. */
int vmm_test_clear_dirty(uint64_t va, bool *dirty);
/* Writes the whole entry of the 4 KiB page va (creating tables), returns
 * the old one in *old and flushes the TLB entry: one store, so other
 * threads see the old page or the new one, never a mix. */
int vmm_set_pte(uint64_t va, uint64_t pte, uint64_t *old);

/* Calls fn for every level-0 entry of [lo, hi) whose tables exist (all of
 * them when create), skipping absent tables whole. fn may rewrite *pte (and
 * must then invlpg); a non-zero return stops the walk and is returned.
 * Interrupts are off while fn runs, on between page tables. */
typedef int (*vmm_pte_fn)(uint64_t va, uint64_t *pte, void *ctx);
int vmm_walk_range(uint64_t lo, uint64_t hi, bool create, vmm_pte_fn fn, void *ctx);

/* True if a read of va would not fault (any page size). */
bool vmm_is_mapped(uint64_t va);

/* Hook for faults inside [PLAT_ARENA_BASE, +PLAT_ARENA_MAX): the plat.h
 * contract. NULL removes it. */
void vmm_set_fault_hook(plat_fault_fn fn, void *ctx);
/* Called by trap_dispatch for #PF: true if the hook resolved it. The hook
 * runs with interrupts enabled when the faulting code had them enabled, so
 * it may block; a fault inside the hook on the same thread is fatal. */
bool vmm_page_fault(uint64_t err, uint64_t addr, bool irqs_were_on);

#endif
