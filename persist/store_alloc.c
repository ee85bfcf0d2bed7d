/* store_alloc.c — the store's free space: an in-memory bitmap of used blocks
 * rebuilt at open from the live map blocks (nothing about free space is
 * persisted, so a crash can never leave it stale), next-fit allocation, and
 * the pending list that delays reuse of released blocks by one commit.
 *
 * Invariant: a block is allocated only if it is live in neither the
 * committed epoch nor the protected previous one, so neither tree a future
 * open might pick is ever overwritten. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

int pst_store_space_init(struct pst_store *s)
{
	size_t words = (size_t)((s->nblocks + 63) / 64);
	free(s->used);
	s->used = calloc(words ? words : 1, sizeof *s->used);
	if (s->used == NULL)
		return -ERR_NOMEM;
	/* The superblocks are permanently used. */
	s->used[0] |= 3;
	s->nused = PST_FIRST_DATA;
	s->hint = PST_FIRST_DATA;
	s->npend = 0;
	return 0;
}

bool pst_store_bit(const struct pst_store *s, uint64_t b)
{
	return (s->used[b / 64] >> (b % 64)) & 1;
}

void pst_store_mark(struct pst_store *s, uint64_t b)
{
	if (!pst_store_bit(s, b)) {
		s->used[b / 64] |= 1ull << (b % 64);
		s->nused++;
	}
}

void pst_store_unmark(struct pst_store *s, uint64_t b)
{
	if (b >= PST_FIRST_DATA && b < s->nblocks && pst_store_bit(s, b)) {
		s->used[b / 64] &= ~(1ull << (b % 64));
		s->nused--;
		if (b < s->hint)
			s->hint = b;
	}
}

/* A cached map block may only be trusted while its block is live; a block
 * being reused drops out of the cache. */
void pst_store_cache_forget(struct pst_store *s, uint64_t b)
{
	if (s->cache == NULL)
		return;
	struct pst_cache_ent *c = &s->cache[b % PST_CACHE_SLOTS];
	if (c->blk == b)
		c->blk = 0;
}

int pst_store_alloc(struct pst_store *s, uint64_t *out)
{
	if (s->nused >= s->nblocks)
		goto full;
	uint64_t words = (s->nblocks + 63) / 64;
	uint64_t w = s->hint / 64;
	for (uint64_t n = 0; n <= words; n++, w = (w + 1) % words) {
		uint64_t free_bits = ~s->used[w];
		if (free_bits == 0)
			continue;
		uint64_t b = w * 64 + (uint64_t)__builtin_ctzll(free_bits);
		if (b >= s->nblocks)
			continue;
		pst_store_mark(s, b);
		pst_store_cache_forget(s, b);
		s->hint = b + 1 < s->nblocks ? b + 1 : PST_FIRST_DATA;
		*out = b;
		return 0;
	}
full:
	return pst_store_seterr(s, -ERR_NOSPC, "store full: all %llu blocks of "
				"the device are live in the last two epochs or "
				"in this txn", (unsigned long long)s->nblocks);
}

int pst_store_pend_add(struct pst_store *s, uint64_t b)
{
	if (s->npend == s->cpend) {
		size_t n = s->cpend ? s->cpend * 2 : 256;
		uint64_t *p = realloc(s->pend, n * sizeof *p);
		if (p == NULL)
			return -ERR_NOMEM;
		s->pend = p;
		s->cpend = n;
	}
	s->pend[s->npend++] = b;
	return 0;
}

/* The other slot's tree stops being protected: its private blocks go back
 * to free space. Called once a commit has replaced it, or at open when it
 * failed verification. */
void pst_store_pend_release(struct pst_store *s)
{
	for (size_t i = 0; i < s->npend; i++)
		pst_store_unmark(s, s->pend[i]);
	s->npend = 0;
}
