/* heap.c — the allocator and the garbage collector. The heap is
 * [heap_lo, heap_hi) of the region; all of the allocator's state (bump
 * pointer, free lists, counters) is in struct vm_root, and free blocks are
 * linked through the heap itself.
 *
 * Allocation: an exact-size free list for small blocks, then the bump
 * pointer, then first fit on the large list (splitting). When the words
 * allocated since the last collection exceed the live words (at least
 * VM_GC_MIN_WORDS), a collection runs first.
 *
 * Collection: stop-the-world, non-moving mark-sweep. Invariant: a
 * collection runs entirely inside one instruction (or a loader step), so a
 * safepoint never sees it half done and a snapshot never holds a
 * half-swept heap; its mark stack is transient C memory. Sweep walks blocks
 * by their size words, coalesces free neighbours and rebuilds every list.
 * Pauses grow with the heap: the road to bounded pauses is an incremental
 * tri-colour marker with a Dijkstra write barrier on PUTFIELD/ASTORE/
 * PUTSTATIC and a sweep cursor, both kept in vm_root. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define VM_GC_MIN_WORDS (1u << 17)     /* 1 MiB between collections, at least */

struct free_blk {
	struct vm_obj h;               /* cls == NULL                        */
	struct free_blk *next;
};

void vm_heap_init(struct vm_root *r, uint64_t lo, uint64_t hi)
{
	r->heap_lo = lo;
	r->heap_hi = hi;
	r->bump = lo;
	memset(r->free_small, 0, sizeof r->free_small);
	r->free_large = 0;
	r->live_words = 0;
	r->alloc_words = 0;
}

static void put_free(struct vm_root *r, uint64_t addr, uint64_t words)
{
	struct free_blk *b = (struct free_blk *)(uintptr_t)addr;
	b->h.cls = NULL;
	b->h.words = (uint32_t)words;
	b->h.nrefs = 0;
	b->h.mark = 0;
	uint64_t *list = words < VM_SMALL_LISTS ? &r->free_small[words] : &r->free_large;
	b->next = (struct free_blk *)(uintptr_t)*list;
	*list = addr;
}

/* ---- marking ---- */

struct mstack {
	struct vm_obj **v;
	size_t n, cap;
	bool oom;
};

static void push(struct mstack *s, vm_value v)
{
	if (!vm_is_ref(v))
		return;
	struct vm_obj *o = vm_ptr(v);
	if (o->mark)
		return;
	o->mark = 1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct vm_obj **nv = realloc(s->v, cap * sizeof *nv);
		if (!nv) {
			/* Marked but not scanned: fall back to rescanning the
			 * heap for marked blocks (see mark_overflow). */
			s->oom = true;
			return;
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = o;
}

static void scan(struct mstack *s, struct vm_obj *o)
{
	vm_value *w = (vm_value *)(o + 1);
	if (o->cls && o->cls->kind == VM_K_THREAD) {
		struct vm_thread *t = (struct vm_thread *)o;
		for (unsigned i = 0; i < VM_THREAD_NREFS; i++)
			if (i != 4)
				push(s, w[i]);
		if (t->stack) {
			t->stack->h.mark = 1;
			for (uint64_t i = 0; i < t->sp; i++)
				push(s, t->stack->data[i]);
		}
		return;
	}
	for (uint32_t i = 0; i < o->nrefs; i++)
		push(s, w[i]);
}

static void drain(struct mstack *s)
{
	while (s->n)
		scan(s, s->v[--s->n]);
}

/* If the mark stack could not grow, rescan the heap for marked blocks
 * until nothing new gets marked: slow but bounded memory. */
static void mark_overflow(struct vm_root *r, struct mstack *s)
{
	while (s->oom) {
		s->oom = false;
		for (uint64_t a = r->heap_lo; a < r->bump;) {
			struct vm_obj *o = (struct vm_obj *)(uintptr_t)a;
			if (o->cls && o->mark) {
				scan(s, o);
				drain(s);
			}
			a += (uint64_t)o->words * 8;
		}
	}
}

uint64_t vm_gc(struct vm_ctx *ctx)
{
	struct vm_root *r = ctx->root;
	struct mstack s = { 0 };
	for (unsigned i = 0; i < VM_TMP_ROOTS; i++)
		push(&s, r->tmp[i]);
	push(&s, vm_ref(r->classes));
	for (unsigned i = 0; i < VM_BI_COUNT; i++)
		push(&s, vm_ref(r->builtin[i]));
	push(&s, vm_ref(r->threads));
	push(&s, r->oom);
	drain(&s);
	mark_overflow(r, &s);
	free(s.v);

	/* Sweep: clear marks, coalesce unmarked runs, rebuild the lists. */
	memset(r->free_small, 0, sizeof r->free_small);
	r->free_large = 0;
	uint64_t live = 0, run = 0, a = r->heap_lo;
	while (a < r->bump) {
		struct vm_obj *o = (struct vm_obj *)(uintptr_t)a;
		uint64_t w = o->words;
		if (o->cls && o->mark) {
			o->mark = 0;
			live += w;
			if (run) {
				/* Every block is >= VM_OBJ_MIN_WORDS, so is every run;
				 * a run too long for a u32 count is split. */
				uint64_t start = a - run * 8;
				while (run > UINT32_MAX / 2) {
					put_free(r, start, UINT32_MAX / 2);
					start += (uint64_t)(UINT32_MAX / 2) * 8;
					run -= UINT32_MAX / 2;
				}
				put_free(r, start, run);
				run = 0;
			}
		} else {
			run += w;
		}
		a += w * 8;
	}
	r->bump -= run * 8;            /* a trailing free run returns to bump */
	r->live_words = live;
	r->alloc_words = 0;
	r->gc_count++;
	return live;
}

void vm_gc_stress(struct vm_ctx *ctx, bool on)
{
	ctx->root->gc_stress = on;
}

static void *take_large(struct vm_root *r, uint64_t words)
{
	uint64_t *prev = &r->free_large;
	for (uint64_t a = *prev; a; a = *prev) {
		struct free_blk *b = (struct free_blk *)(uintptr_t)a;
		if (b->h.words >= words) {
			*prev = (uint64_t)(uintptr_t)b->next;
			uint64_t rest = b->h.words - words;
			if (rest >= VM_OBJ_MIN_WORDS) {
				put_free(r, a + words * 8, rest);
			} else {
				words = b->h.words;
			}
			b->h.words = (uint32_t)words;
			return b;
		}
		prev = (uint64_t *)&b->next;
	}
	return NULL;
}

static void *take(struct vm_root *r, uint64_t words)
{
	if (words < VM_SMALL_LISTS && r->free_small[words]) {
		struct free_blk *b = (struct free_blk *)(uintptr_t)r->free_small[words];
		r->free_small[words] = (uint64_t)(uintptr_t)b->next;
		return b;
	}
	if (r->heap_hi - r->bump >= words * 8) {
		struct vm_obj *o = (struct vm_obj *)(uintptr_t)r->bump;
		r->bump += words * 8;
		o->words = (uint32_t)words;
		return o;
	}
	return take_large(r, words);
}

void *vm_alloc(struct vm_ctx *ctx, struct vm_class *cls, size_t words, uint32_t nrefs)
{
	struct vm_root *r = ctx->root;
	if (words < VM_OBJ_MIN_WORDS)
		words = VM_OBJ_MIN_WORDS;
	if (words > UINT32_MAX || nrefs > VM_NREFS_MAX || nrefs > words - 2)
		return NULL;
	uint64_t trigger = r->live_words > VM_GC_MIN_WORDS ? r->live_words : VM_GC_MIN_WORDS;
	if (!r->gc_inhibit && (r->gc_stress || r->alloc_words > trigger))
		vm_gc(ctx);
	struct vm_obj *o = take(r, words);
	if (!o && !r->gc_inhibit) {
		vm_gc(ctx);
		o = take(r, words);
	}
	if (!o)
		return NULL;
	uint32_t w = o->words;         /* may exceed `words` after a split  */
	memset(o, 0, (size_t)w * 8);
	o->cls = cls;
	o->words = w;
	o->nrefs = nrefs;
	r->alloc_words += w;
	return o;
}
