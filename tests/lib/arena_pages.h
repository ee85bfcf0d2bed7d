/* arena_pages.h — what the arena's unit tests share: a page's address in
 * an arena, whether a page holds one byte value throughout, opening a
 * test's arena so that one a failed test left open is closed first, and
 * saving a batch. */
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

/* The arena a failed test left open (CHECK returns early), closed by the
 * next open so one failure does not fail every later test. */
static struct pst_arena *arena_leftover;

static inline struct pst_arena *arena_open_test(const struct pst_arena_config *cfg)
{
	if (arena_leftover != NULL)
		pst_arena_close(arena_leftover);
	arena_leftover = NULL;
	if (pst_arena_open(cfg, &arena_leftover) != 0)
		arena_leftover = NULL;
	return arena_leftover;
}

static inline int arena_close_test(struct pst_arena *a)
{
	arena_leftover = NULL;
	return pst_arena_close(a);
}

/* Saves and frees one batch: every page in [same_lo, same_hi) is reported
 * unchanged (as the image's sink finds a fault-around guess not written). */
static inline void arena_save_batch(struct pst_arena *a, struct pst_arena_batch *b,
				    uint32_t same_lo, uint32_t same_hi)
{
	uint8_t buf[PAGE];
	const void *c;
	for (uint32_t i = 0; i < b->count; i++) {
		uint32_t p = b->pages[i];
		pst_arena_save_page(a, p, buf, &c);
		if (p >= same_lo && p < same_hi)
			pst_arena_save_unchanged(a, p);
		else
			pst_arena_save_done(a, p);
	}
	pst_arena_batch_free(b);
}

#endif
