/* xarena.h — the persistent arena's address space on bare metal: the
 * plat_ops arena entries (reserve, release, protect, discard, page_fill,
 * set_fault_handler) over the kernel page tables.
 *
 * An arena page is in one of three states, all in its page-table entry:
 *   frame    VMM_FRAME set; P and W give the protection
 *   zero     no frame; XARENA_ZR/XARENA_ZW hold the protection of a page of
 *            zeros that gets a frame on its first permitted access
 *   none     entry 0: zeros, no access (the state after reserve)
 * so reserve, protect and discard of untouched ranges cost no memory. */
#ifndef X86_XARENA_H
#define X86_XARENA_H

#include <stddef.h>
#include <stdint.h>

#include "plat.h"

int xarena_reserve(uint64_t size, void **base);
int xarena_release(void);
int xarena_protect(void *addr, size_t len, enum plat_prot prot);
int xarena_discard(void *addr, size_t len);
int xarena_page_fill(void *addr, const void *src, enum plat_prot prot);
int xarena_set_fault_handler(plat_fault_fn fn, void *ctx);
/* Frames currently backing arena pages (for tests and reports). */
uint64_t xarena_resident_pages(void);

#endif
