/* malloc.c — kernel libc: the heap. First fit over one address-ordered free
 * list, coalescing on free, over regions handed in by klibc_heap_init.
 *
 * Block layout (every block a multiple of 16 bytes, 16-aligned):
 *
 *   +----------------+----------------+------------------------------+
 *   | size (8 bytes) | next / magic   | payload ...                  |
 *   +----------------+----------------+------------------------------+
 *   ^ block                           ^ pointer returned (block + 16)
 *
 * size counts the whole block. A free block's second word links the next free
 * block (strictly higher address); an allocated block's holds HEAP_MAGIC, so
 * free() of a wild pointer or a double free aborts with a message instead of
 * corrupting the list. Invariant: free blocks never touch (they are merged).
 * All list access happens between the heap_lock and heap_unlock hooks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "klibc.h"
#include "klibc_internal.h"

#define HDR        16u
#define MIN_BLOCK  32u
#define HEAP_MAGIC 0x6b6c6962616c6c63ull /* "kliballc" */

struct block {
	size_t size;
	union {
		struct block *next; /* free */
		uint64_t magic;     /* allocated */
	};
};

static struct block *free_list;
static size_t heap_total;

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

/* Puts b into the address-ordered list, merging with touching neighbours. */
static void insert_free(struct block *b)
{
	struct block **link = &free_list, *prev = NULL;

	while (*link && *link < b) {
		prev = *link;
		link = &(*link)->next;
	}
	b->next = *link;
	*link = b;
	if (b->next && (char *)b + b->size == (char *)b->next) {
		b->size += b->next->size;
		b->next = b->next->next;
	}
	if (prev && (char *)prev + prev->size == (char *)b) {
		prev->size += b->size;
		prev->next = b->next;
	}
}

void klibc_heap_init(void *base, size_t len)
{
	uintptr_t start = align_up((uintptr_t)base, HDR);
	uintptr_t end = ((uintptr_t)base + len) & ~(uintptr_t)(HDR - 1);
	struct block *b;

	if (base == NULL || end <= start || end - start < 64)
		return;
	b = (struct block *)start;
	b->size = end - start;
	klibc_heap_lock();
	heap_total += b->size;
	insert_free(b);
	klibc_heap_unlock();
}

/* First fit for n payload bytes at an align-aligned address. A gap left
 * before the payload becomes its own free block, so it must be 0 or at
 * least MIN_BLOCK; the tail is split off when it can hold a block. */
static void *alloc_locked(size_t align, size_t n)
{
	struct block **link, *b;
	size_t need = align_up(n ? n : 1, HDR);

	if (n > SIZE_MAX / 2 || align > SIZE_MAX / 4)
		return NULL;
	for (link = &free_list; (b = *link) != NULL; link = &b->next) {
		uintptr_t start = (uintptr_t)b, end = start + b->size;
		uintptr_t user = align_up(start + HDR, align);

		while (user - HDR != start && user - HDR - start < MIN_BLOCK)
			user += align;
		if (user + need > end)
			continue;
		*link = b->next;
		if (user - HDR != start) { /* leading gap back to the list */
			struct block *gap = b;
			gap->size = user - HDR - start;
			b = (struct block *)(user - HDR);
			b->size = end - (user - HDR);
			insert_free(gap);
		}
		if (b->size - (HDR + need) >= MIN_BLOCK) {
			struct block *tail = (struct block *)((char *)b + HDR + need);
			tail->size = b->size - (HDR + need);
			b->size = HDR + need;
			insert_free(tail);
		}
		b->magic = HEAP_MAGIC;
		return (char *)b + HDR;
	}
	return NULL;
}

static struct block *owner(void *p)
{
	struct block *b = (struct block *)((char *)p - HDR);

	if (((uintptr_t)p & (HDR - 1)) || b->magic != HEAP_MAGIC)
		klibc_fatal("free/realloc of a pointer malloc did not return (or a double free)");
	return b;
}

void *aligned_alloc(size_t align, size_t n)
{
	void *p;

	if (align < HDR)
		align = HDR;
	if (align & (align - 1)) {
		errno_set(EINVAL);
		return NULL;
	}
	klibc_heap_lock();
	p = alloc_locked(align, n);
	klibc_heap_unlock();
	if (!p)
		errno_set(ENOMEM);
	return p;
}

void *malloc(size_t n) { return aligned_alloc(HDR, n); }

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	*out = aligned_alloc(align, n);
	return *out ? 0 : ENOMEM;
}

void *calloc(size_t count, size_t n)
{
	void *p;

	if (n && count > SIZE_MAX / n) {
		errno_set(ENOMEM);
		return NULL;
	}
	p = malloc(count * n);
	return p ? memset(p, 0, count * n) : NULL;
}

void free(void *p)
{
	struct block *b;

	if (p == NULL)
		return;
	klibc_heap_lock();
	b = owner(p);
	insert_free(b);
	klibc_heap_unlock();
}

void *realloc(void *p, size_t n)
{
	struct block *b;
	size_t have;
	void *q;

	if (p == NULL)
		return malloc(n);
	klibc_heap_lock();
	b = owner(p);
	have = b->size - HDR;
	klibc_heap_unlock();
	if (n <= have)
		return p; /* shrinking keeps the block; the slack returns on free */
	q = malloc(n);
	if (q) {
		memcpy(q, p, have);
		free(p);
	}
	return q;
}

void klibc_heap_stats(struct klibc_heap_stats *st)
{
	struct block *b;

	klibc_heap_lock();
	st->total = heap_total;
	st->free = 0;
	st->free_blocks = 0;
	for (b = free_list; b; b = b->next) {
		st->free += b->size;
		st->free_blocks++;
	}
	klibc_heap_unlock();
}
