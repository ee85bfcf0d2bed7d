/* image_pattern.h — the arena contents the image portability and power-cut
 * tests write and check, shared by the kernel's test=image (ktest_image.c)
 * and the hosted image_tool.c, so both sides agree on the bytes. Pages are
 * 4 KiB words of uint64_t; a generation G touches 64 scattered pages, and
 * the 8 pages from IMGPAT_U_FIRST hold G when G is odd and are declared
 * unused (read as zeros) when G is even (imgpat_write_image). */
#ifndef TESTS_QEMU_IMAGE_PATTERN_H
#define TESTS_QEMU_IMAGE_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#include "persist/arena.h"
#include "persist/image.h"

#define IMGPAT_ARENA   (16u << 20)              /* arena bytes            */
#define IMGPAT_DISK    (64u << 20)              /* image file bytes       */
#define IMGPAT_PAGES   64u
#define IMGPAT_WORDS   512u                     /* uint64_t per 4 KiB page */
/* The power-cut counter lives in two pages of different state leaves: an
 * epoch that commits one without the other would show. */
#define IMGPAT_CTR_A   10u
#define IMGPAT_CTR_B   3000u
#define IMGPAT_U_FIRST 4000u                    /* held or unused by parity */
#define IMGPAT_U_PAGES 8u

static inline bool imgpat_u_held(uint64_t gen) { return gen % 2 == 1; }

static inline uint64_t *imgpat_page(void *base, uint32_t i)
{
	uint32_t pg = (i * 37u + 5u) % (IMGPAT_ARENA / 4096u);
	return (uint64_t *)((uint8_t *)base + (uint64_t)pg * 4096u);
}

static inline void imgpat_write(void *base, uint64_t gen)
{
	for (uint32_t i = 0; i < IMGPAT_PAGES; i++) {
		uint64_t *w = imgpat_page(base, i);
		w[0] = gen;
		w[1] = i;
		w[2 + (i + gen) % (IMGPAT_WORDS - 2)] = gen * 1000u + i;
	}
	for (uint32_t i = 0; imgpat_u_held(gen) && i < IMGPAT_U_PAGES; i++) {
		uint64_t *w = (uint64_t *)((uint8_t *)base +
					   (uint64_t)(IMGPAT_U_FIRST + i) * 4096u);
		w[0] = gen;
		w[IMGPAT_WORDS - 1] = ~gen ^ i;
	}
}

/* Generation gen into an open image: the pattern, and its unused pages
 * declared. 0 or -ERR_x. */
static inline int imgpat_write_image(struct pst_image *img, uint64_t gen)
{
	imgpat_write(pst_image_base(img), gen);
	return imgpat_u_held(gen) ? 0
		: pst_arena_declare_unused(pst_image_arena(img), IMGPAT_U_FIRST,
					   IMGPAT_U_PAGES);
}

static inline bool imgpat_check(void *base, uint64_t gen)
{
	for (uint32_t i = 0; i < IMGPAT_PAGES; i++) {
		uint64_t *w = imgpat_page(base, i);
		if (w[0] != gen || w[1] != i ||
		    w[2 + (i + gen) % (IMGPAT_WORDS - 2)] != gen * 1000u + i)
			return false;
	}
	bool held = imgpat_u_held(gen);
	for (uint32_t i = 0; i < IMGPAT_U_PAGES; i++) {
		uint64_t *w = (uint64_t *)((uint8_t *)base +
					   (uint64_t)(IMGPAT_U_FIRST + i) * 4096u);
		for (uint32_t k = 0; k < IMGPAT_WORDS; k++) {
			uint64_t want = !held ? 0 : k == 0 ? gen
				      : k == IMGPAT_WORDS - 1 ? (~gen ^ i) : 0;
			if (w[k] != want)
				return false;
		}
	}
	return true;
}

#endif
