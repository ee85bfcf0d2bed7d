/* arena_pages.h — what the arena's unit tests share: a page's address in
 * an arena, and whether a page holds one byte value throughout. */
#ifndef PHANTOM_TESTS_ARENA_PAGES_H
#define PHANTOM_TESTS_ARENA_PAGES_H

#include <stdbool.h>
#include <stdint.h>

#include "../../persist/arena.h"

#define PAGE PLAT_PAGE_SIZE

static inline uint8_t *page(struct pst_arena *a, uint64_t pgno)
{
	return (uint8_t *)pst_arena_base(a) + pgno * PAGE;
}

static inline bool page_is(const volatile uint8_t *p, uint8_t v)
{
	for (unsigned i = 0; i < PAGE; i++)
		if (p[i] != v)
			return false;
	return true;
}

#endif
