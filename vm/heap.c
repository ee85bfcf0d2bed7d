/* heap.c — the allocator and the garbage collector. The heap is
 * [heap_lo, heap_hi) of the region; all of the allocator's and collector's
 * state (bump pointer, free lists, counters, marking cursor) is in struct
 * vm_root, the block headers and the colour bitmap after the heap, and
 * free blocks are linked through the heap itself.
 *
 * Allocation: an exact-size free list for small blocks, then first fit on
 * the large list (splitting), then the bump pointer into memory never used
 * (reused memory first keeps the persistent heap, and so each snapshot and
 * the image, small). When the words
 * allocated since the last collection exceed the live words (at least
 * VM_GC_MIN_WORDS), a collection cycle starts.
 *
 * The interpreter's small objects are born in the nursery instead (young.c,
 * after the bitmap) and come here only if they survive a minor
 * collection (vm_heap_promote); a young allocation keeps room above the
 * bump pointer for all it holds (the reserve), so that never fails.
 *
 * Collection: non-moving mark-sweep with incremental, snapshot-at-the-
 * beginning marking. Colours: white (mark 0), gray (mark 1, gray 1: fields
 * not scanned yet), black (mark 1, gray 0). The two bits live in a side
 * bitmap after the heap, [gc_bits, gc_bits + 8 * gc_bits_words), two bits
 * per 16-byte granule (every block is at least 24 bytes, so no granule
 * holds two block starts). A collection thus writes only the bitmap and
 * the dead blocks, not every live object: on a persistent heap each page
 * written is a page more for the next snapshot. Bits mean something only
 * at block starts, and every block gets its bits when it is made (put_free,
 * vm_alloc), so the bitmap is never cleared as a whole. A cycle starts
 * by shading the roots and every thread's stack below sp (work ∝ roots and
 * stacks, not the heap); then each allocation does a step of marking
 * proportional to its size: a cursor (gc_scan) walks the heap by block headers and scans gray
 * blocks; shading a block below the cursor records it in gc_gray_lo for
 * another pass. Invariants while marking: every object reachable when the
 * cycle started ends up marked, because (1) the roots and stacks were
 * shaded at the start, (2) every overwrite of a reference in a heap object
 * or a root field first shades the old value (vm_gc_shade: PUTFIELD,
 * ASTORE, PUTSTATIC and the C code that edits the thread list, monitor
 * table and root directory), and (3) blocks allocated while marking are
 * born black. Stack slots need no barrier: what a thread loads after the
 * start comes from a heap slot, whose overwrite is barriered. When no gray
 * block is left, a sweep, also in steps, frees white blocks, coalesces
 * them and rebuilds the lists (see start_sweep).
 * Free memory goes back to the host (vm_set_discard) once it has stayed
 * free for the host's minimum age: memory discarded and then reused costs
 * a page fault per page, so it happens at most once per age. A sweep that
 * starts that long after the last discard pass is a pass. It hands over
 * the pages above every bump since the last pass (bump_peak) down to
 * heap_clean, and the whole pages after the header of each free block
 * that the last pass saw free (`aged`) and that the allocator has not cut
 * since (`carved`); a handed-over block is marked `discarded`. Nothing
 * reads a free block past its header.
 * Every step runs inside one instruction, a loader step or an idle step
 * between instructions (vm_gc_idle), so a safepoint, and a snapshot, sees
 * a consistent cycle; all its state is in
 * the region, so a restored region simply continues the cycle. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define VM_GC_MIN_WORDS (1u << 17)     /* 1 MiB between collections, at least */

struct free_blk {
	struct vm_obj h;               /* cls == NULL                        */
	struct free_blk *next;
};

/* ---- colours: the side bitmap ---- */

#define GC_MARK 1u
#define GC_GRAY 2u
#define GC_HEAP_PER_WORD 512u          /* 32 granules of 16 bytes, 2 bits each */
#define VM_PAGE 4096u                  /* the discard hook's granule           */

static inline uint64_t page_up(uint64_t a) { return (a + VM_PAGE - 1) & ~(uint64_t)(VM_PAGE - 1); }
static inline uint64_t page_down(uint64_t a) { return a & ~(uint64_t)(VM_PAGE - 1); }

/* A free block's pages the discard hook may get: whole ones past its
 * header and link. */
static bool has_whole_page(const struct vm_obj *o)
{
	uint64_t a = (uint64_t)(uintptr_t)o;
	return page_up(a + sizeof(struct free_blk)) < page_down(a + (uint64_t)o->words * 8);
}

_Static_assert(VM_OBJ_MIN_WORDS * 8 > 16, "one block start per 16-byte granule");

static inline uint64_t *colour_word(const struct vm_root *r, const void *o, unsigned *shift)
{
	uint64_t g = ((uint64_t)(uintptr_t)o - r->heap_lo) >> 4;
	*shift = (unsigned)(g & 31) * 2;
	return (uint64_t *)(uintptr_t)r->gc_bits + (g >> 5);
}

static inline unsigned colour(const struct vm_root *r, const void *o)
{
	unsigned sh;
	return (unsigned)(*colour_word(r, o, &sh) >> sh) & 3u;
}

static inline void set_colour(const struct vm_root *r, const void *o, unsigned c)
{
	unsigned sh;
	uint64_t *w = colour_word(r, o, &sh);
	*w = (*w & ~(3ull << sh)) | ((uint64_t)c << sh);
}

/* [lo, hi) holds the heap, its bitmap and the nursery: the nursery takes
 * the last young_bytes (whole pages, the host may make them volatile),
 * the bitmap the end of the rest, 8 bytes per 512 bytes of heap (1/65). */
void vm_heap_init(struct vm_root *r, uint64_t lo, uint64_t hi, uint64_t young_bytes)
{
	young_bytes &= ~(uint64_t)(VM_PAGE - 1);
	r->young_hi = young_bytes ? page_down(hi) : hi;    /* none: empty, at the end */
	r->young_lo = r->young_hi - young_bytes;
	r->young_top = r->young_lo;
	r->young_rem = r->young_hi;
	r->young_end = r->young_hi - r->young_lo > VM_YOUNG_ROUND_MIN ?
		r->young_lo + VM_YOUNG_ROUND_MIN : r->young_hi;
	if (young_bytes)
		hi = r->young_lo;
	uint64_t words = (hi - lo) / (GC_HEAP_PER_WORD + 8) + 1;
	r->gc_bits = (hi - words * 8) & ~(uint64_t)7;
	r->gc_bits_words = words;
	r->heap_lo = lo;
	r->heap_hi = r->gc_bits;
	r->bump = lo;
	r->bump_peak = lo;
	r->heap_clean = page_up(lo);     /* never used: nothing to discard */
	r->discard_pass_ns = 0;
	r->gc_sweep_pass = 0;
	memset(r->free_small, 0, sizeof r->free_small);
	r->free_large = 0;
	r->live_words = 0;
	r->alloc_words = 0;
}

static bool in_heap(const struct vm_root *r, uint64_t a)
{
	return a >= r->heap_lo && a < r->bump && (a & 7) == 0;
}

/* An attached region's heap and bitmap lie inside it and fit each other,
 * and the collector's cursors point into the heap (they index the bitmap:
 * a wild one would write outside the region). */
bool vm_heap_fits(const struct vm_root *r, uintptr_t base, size_t size)
{
	uint64_t end = (uint64_t)base + size;
	if (!(r->heap_lo >= base && r->heap_lo <= r->bump && r->bump <= r->heap_hi &&
	      r->bump <= r->bump_peak && r->bump_peak <= r->heap_hi &&
	      (r->heap_clean & (VM_PAGE - 1)) == 0 &&
	      r->gc_bits == r->heap_hi && (r->gc_bits & 7) == 0 && r->gc_bits <= end &&
	      r->gc_bits_words <= (end - r->gc_bits) / 8 &&
	      r->gc_bits_words >= (r->heap_hi - r->heap_lo + GC_HEAP_PER_WORD - 1) /
				   GC_HEAP_PER_WORD))
		return false;
	/* The nursery: after the bitmap, and empty (the host only ever sees
	 * it so, and a snapshot is taken only then). */
	if (!(r->young_lo <= r->young_hi && r->young_hi <= end &&
	      r->young_lo >= r->gc_bits + 8 * r->gc_bits_words &&
	      (r->young_lo == r->young_hi ||
	       ((r->young_lo | r->young_hi) & (VM_PAGE - 1)) == 0) &&
	      r->young_top == r->young_lo && r->young_rem == r->young_hi &&
	      r->young_end >= r->young_lo && r->young_end <= r->young_hi &&
	      !r->young_overflow))
		return false;
	if (r->gc_marking) {
		if (r->gc_ngray > VM_GC_GRAY || r->gc_scan < r->heap_lo ||
		    r->gc_scan > r->bump || (r->gc_scan & 7) ||
		    (r->gc_gray_lo != UINT64_MAX && !in_heap(r, r->gc_gray_lo)))
			return false;
		for (uint64_t i = 0; i < r->gc_ngray; i++)
			if (!in_heap(r, r->gc_gray[i]))
				return false;
	}
	if (r->gc_sweeping &&
	    !(r->heap_lo <= r->gc_sweep_at && r->gc_sweep_at <= r->gc_sweep_end &&
	      r->gc_sweep_end <= r->bump && !(r->gc_sweep_at & 7)))
		return false;
	return true;
}

static void put_free(struct vm_root *r, uint64_t addr, uint64_t words)
{
	struct free_blk *b = (struct free_blk *)(uintptr_t)addr;
	b->h.cls = NULL;
	b->h.words = (uint32_t)words;
	b->h.nrefs = 0;
	b->h.discarded = 0;
	b->h.aged = 0;
	b->h.carved = 0;
	b->h.stack = 0;
	set_colour(r, b, 0);
	uint64_t *list = words < VM_SMALL_LISTS ? &r->free_small[words] : &r->free_large;
	b->next = (struct free_blk *)(uintptr_t)*list;
	*list = addr;
}

/* ---- marking ---- */

/* Newly shaded blocks also go on a small gray stack in the root and are
 * scanned depth-first before the cursor moves on: a list linked downwards
 * would otherwise take one heap pass per node. When the stack is full, a
 * block below the cursor is recorded in gc_gray_lo instead (found again by
 * another pass); one above it is found by this pass. */
static void shade_to(struct vm_root *r, bool stack, vm_value v)
{
	/* Young objects are not coloured: the nursery is a root (begin_cycle)
	 * and its survivors are born black (vm_heap_promote). */
	if (!vm_is_ref(v) || vm_is_young(r, v))
		return;
	struct vm_obj *o = vm_ptr(v);
	if (colour(r, o) & GC_MARK)
		return;
	set_colour(r, o, GC_MARK | GC_GRAY);
	uint64_t a = (uint64_t)(uintptr_t)o;
	if (stack && r->gc_ngray < VM_GC_GRAY) {
		r->gc_gray[r->gc_ngray++] = a;
		return;
	}
	if (a < r->gc_scan && a < r->gc_gray_lo)
		r->gc_gray_lo = a;
}

void vm_gc_shade(struct vm_root *r, vm_value v)
{
	shade_to(r, true, v);
}

/* Blacken o: shade what it references. Returns the work done. */
static uint64_t scan(struct vm_root *r, struct vm_obj *o)
{
	vm_value *w = (vm_value *)(o + 1);
	set_colour(r, o, GC_MARK);
	if (o->cls && o->cls->kind == VM_K_THREAD) {
		struct vm_thread *t = (struct vm_thread *)o;
		for (unsigned i = 0; i < VM_THREAD_NREFS; i++)
			if (i != VM_THREAD_STACK_REF)
				shade_to(r, true, w[i]);
		if (t->stack) {
			/* A stack is black without being scanned past sp: slots
			 * above it are dead. */
			set_colour(r, t->stack, GC_MARK);
			for (uint64_t i = 0; i < t->sp; i++)
				shade_to(r, true, t->stack->data[i]);
			return 1 + VM_THREAD_NREFS + t->sp;
		}
		return 1 + VM_THREAD_NREFS;
	}
	for (uint32_t i = 0; i < o->nrefs; i++)
		shade_to(r, true, w[i]);
	return 1 + o->nrefs;
}

static void begin_cycle(struct vm_root *r)
{
	r->gc_marking = 1;
	r->gc_scan = r->heap_lo;
	r->gc_gray_lo = UINT64_MAX;
	r->gc_ngray = 0;
	for (unsigned i = 0; i < VM_TMP_ROOTS; i++)
		vm_gc_shade(r, r->tmp[i]);
	vm_gc_shade(r, vm_ref(r->classes));
	for (unsigned i = 0; i < VM_BI_COUNT; i++)
		vm_gc_shade(r, vm_ref(r->builtin[i]));
	vm_gc_shade(r, r->oom);
	vm_gc_shade(r, vm_ref(r->monitors));
	vm_gc_shade(r, vm_ref(r->dir));
	/* Every listed thread and its stack now: the stacks' snapshot. */
	for (struct vm_thread *t = r->threads; t; t = t->next) {
		vm_gc_shade(r, vm_ref(t));
		scan(r, &t->h);
	}
	/* And what the young objects reference now (they are not marked
	 * themselves, so this is their part of the snapshot). */
	for (uint64_t a = r->young_lo; a < r->young_top;) {
		struct vm_obj *o = (struct vm_obj *)(uintptr_t)a;
		for (uint32_t i = 0; i < o->nrefs; i++)
			shade_to(r, true, ((vm_value *)(o + 1))[i]);
		a += (uint64_t)o->words * 8;
	}
}

/* Sweep, also in steps. An incremental sweep leaves the free lists as
 * they are and adds runs of newly dead blocks (coalesced with each other,
 * not with blocks already free, which sit in lists); the allocator may
 * take a listed block ahead of the cursor, so vm_alloc marks blocks it
 * hands out in [gc_sweep_at, gc_sweep_end), and the sweep keeps them. A
 * full sweep (vm_gc, or memory short: gc_full) empties the lists first and
 * coalesces every free neighbour, undoing fragmentation; it runs to the
 * end in one go. */
static void start_sweep(struct vm_ctx *ctx)
{
	struct vm_root *r = ctx->root;
	r->gc_marking = 0;
	r->gc_sweeping = 1;
	r->gc_sweep_pass = 0;
	vm_young_forget_dead(r);
	if (ctx->discard != NULL) {
		uint64_t now = vm_now_ns(ctx), last = r->discard_pass_ns;
		if (now - last >= ctx->discard_age_ns) {  /* (set back: huge) */
			r->gc_sweep_pass = 1;
			r->discard_pass_ns = now;
		}
	}
	if (r->gc_full) {
		memset(r->free_small, 0, sizeof r->free_small);
		r->free_large = 0;
	}
	r->gc_sweep_at = r->heap_lo;
	r->gc_sweep_end = r->bump;
	r->gc_sweep_run = 0;
	r->gc_sweep_live = 0;
	r->gc_sweep_unhanded = 0;
}

/* Free the run of `run` words ending at `end`; a run too long for a u32
 * count is split. Every block is >= VM_OBJ_MIN_WORDS, so is every run.
 * A run merged only from free blocks the last pass saw stays `aged`. */
static void free_run(struct vm_root *r, uint64_t end, uint64_t run)
{
	uint64_t start = end - run * 8;
	uint32_t aged = r->gc_sweep_run_aged;
	while (run > UINT32_MAX / 2) {
		put_free(r, start, UINT32_MAX / 2);
		((struct vm_obj *)(uintptr_t)start)->aged = aged;
		r->gc_sweep_unhanded++;
		start += (uint64_t)(UINT32_MAX / 2) * 8;
		run -= UINT32_MAX / 2;
	}
	put_free(r, start, run);
	((struct vm_obj *)(uintptr_t)start)->aged = aged;
	r->gc_sweep_unhanded += has_whole_page((struct vm_obj *)(uintptr_t)start);
}

/* A discard pass meets a free block. It was free before the sweep began
 * (blocks the sweep frees lie behind its cursor). Its whole pages after
 * the header go to the host if the last pass saw it free too and the
 * allocator has not cut it since; otherwise it is marked seen. A block
 * without a whole page is not touched at all (a write would put its page
 * in the next snapshot). */
static void pass_free_block(struct vm_ctx *ctx, struct vm_obj *o)
{
	uint64_t a = (uint64_t)(uintptr_t)o;
	uint64_t lo = page_up(a + sizeof(struct free_blk));
	uint64_t hi = page_down(a + (uint64_t)o->words * 8);
	if (ctx->discard == NULL || o->discarded || lo >= hi)
		return;
	if (o->aged && !o->carved) {
		ctx->discard(ctx->discard_arg, (void *)(uintptr_t)lo, hi - lo);
		o->discarded = 1;
		return;
	}
	o->aged = 1;
	o->carved = 0;
}

/* A discard pass ends: the pages above every bump since the last pass
 * were free since then; those not handed over yet (below heap_clean) go
 * now. The bitmap's first page, shared with the heap's end, stays. */
static void pass_above_bump(struct vm_ctx *ctx)
{
	struct vm_root *r = ctx->root;
	uint64_t lo = page_up(r->bump_peak), top = page_down(r->heap_hi);
	uint64_t hi = r->heap_clean < top ? r->heap_clean : top;
	if (ctx->discard != NULL && lo < hi)
		ctx->discard(ctx->discard_arg, (void *)(uintptr_t)lo, hi - lo);
	if (ctx->discard != NULL || lo > r->heap_clean)
		r->heap_clean = lo;  /* (no hook: kept for a later pass) */
	r->bump_peak = r->bump;
}

/* Sweep up to `budget` blocks; true when the sweep (and cycle) ended. */
static bool sweep_some(struct vm_ctx *ctx, uint64_t budget, uint64_t *done)
{
	struct vm_root *r = ctx->root;
	while (r->gc_sweep_at < r->gc_sweep_end) {
		if ((*done)++ >= budget)
			return false;
		uint64_t a = r->gc_sweep_at;
		struct vm_obj *o = (struct vm_obj *)(uintptr_t)a;
		uint64_t w = o->words;
		if (!o->cls && r->gc_sweep_pass)
			pass_free_block(ctx, o);
		if (!o->cls && !o->discarded && has_whole_page(o))
			r->gc_sweep_unhanded++;
		bool live = o->cls && (colour(r, o) & GC_MARK);
		if (live || (!o->cls && !r->gc_full)) {
			if (live) {
				set_colour(r, o, 0);
				r->gc_sweep_live += w;
			}
			if (r->gc_sweep_run) {
				free_run(r, a, r->gc_sweep_run);
				r->gc_sweep_run = 0;
			}
		} else {
			bool aged = !o->cls && o->aged && !o->carved;
			r->gc_sweep_run_aged = r->gc_sweep_run ? r->gc_sweep_run_aged && aged : aged;
			r->gc_sweep_run += w;
		}
		r->gc_sweep_at = a + w * 8;
	}
	if (r->gc_sweep_run) {
		if (r->bump == r->gc_sweep_end)
			r->bump -= r->gc_sweep_run * 8;   /* a trailing run returns to bump */
		else
			free_run(r, r->gc_sweep_end, r->gc_sweep_run);
		r->gc_sweep_run = 0;
	}
	if (r->gc_sweep_pass)
		pass_above_bump(ctx);
	r->gc_sweep_pass = 0;
	r->free_unhanded = r->gc_sweep_unhanded;
	r->last_cycle_words = r->gc_cycle_words;
	r->gc_cycle_words = 0;
	r->live_words = r->gc_sweep_live;
	r->alloc_words = 0;
	r->gc_count++;
	r->gc_sweeping = 0;
	r->gc_full = 0;
	return true;
}

/* Mark, then sweep, for about `budget` units of work (UINT64_MAX: to the
 * end of the cycle). Returns true when the cycle ended. */
static bool step(struct vm_ctx *ctx, uint64_t budget)
{
	struct vm_root *r = ctx->root;
	uint64_t done = 0;
	while (done < budget) {
		if (r->gc_sweeping) {
			if (sweep_some(ctx, budget, &done))
				return true;
			continue;
		}
		if (r->gc_ngray) {
			struct vm_obj *o = (struct vm_obj *)(uintptr_t)r->gc_gray[--r->gc_ngray];
			done += colour(r, o) & GC_GRAY ? scan(r, o) : 1;
			continue;
		}
		if (r->gc_scan >= r->bump) {
			if (r->gc_gray_lo == UINT64_MAX) {
				start_sweep(ctx);
				continue;
			}
			r->gc_scan = r->gc_gray_lo;
			r->gc_gray_lo = UINT64_MAX;
		}
		struct vm_obj *o = (struct vm_obj *)(uintptr_t)r->gc_scan;
		r->gc_scan += (uint64_t)o->words * 8;
		done += o->cls && (colour(r, o) & GC_GRAY) ? scan(r, o) : 1;
	}
	return false;
}

uint64_t vm_gc(struct vm_ctx *ctx)
{
	struct vm_root *r = ctx->root;
	if (r->gc_marking || r->gc_sweeping)
		step(ctx, UINT64_MAX);   /* finish the cycle in progress */
	begin_cycle(r);
	r->gc_full = 1;
	step(ctx, UINT64_MAX);
	return r->live_words;
}

bool vm_gc_step(struct vm_ctx *ctx, uint64_t budget)
{
	struct vm_root *r = ctx->root;
	if (r->gc_inhibit)
		return false;
	if (!r->gc_marking && !r->gc_sweeping)
		begin_cycle(r);
	return budget ? step(ctx, budget) : false;
}

/* vm.h. Idle collection is for the discard hook: a cycle costs a pass over
 * the live set and writes the mark bitmap (pages for the next snapshot),
 * so an idle program runs one only when a pass is due and something may
 * be handed over, and at most one per age. */
bool vm_gc_idle(struct vm_ctx *ctx, uint64_t budget)
{
	struct vm_root *r = ctx->root;
	if (r->gc_inhibit || budget == 0)
		return false;
	if (!r->gc_marking && !r->gc_sweeping) {
		if (ctx->discard == NULL ||
		    vm_now_ns(ctx) - r->discard_pass_ns < ctx->discard_age_ns)
			return false;
		/* Garbage the last cycle could not free (allocated since,
		 * or while it ran), or free memory not handed over. */
		bool pending = r->alloc_words > 0 || r->last_cycle_words > 0 ||
			       r->free_unhanded > 0 ||
			       r->heap_clean > page_up(r->bump_peak);
		if (!pending)
			return false;
		begin_cycle(r);
	}
	step(ctx, budget);
	return true;
}

uint64_t vm_gc_live_words(struct vm_ctx *ctx)
{
	return ctx->root->live_words;
}

uint64_t vm_gc_cycles(struct vm_ctx *ctx)
{
	return ctx->root->gc_count;
}

void vm_gc_stress(struct vm_ctx *ctx, bool on)
{
	ctx->root->gc_stress = on;
}

void vm_gc_incremental_stress(struct vm_ctx *ctx, bool on)
{
	ctx->root->gc_incr_stress = on;
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
				/* The rest's pages are as discarded as they
				 * were; the allocator is using it. */
				struct vm_obj was = b->h;
				put_free(r, a + words * 8, rest);
				struct vm_obj *h = (struct vm_obj *)(uintptr_t)(a + words * 8);
				h->discarded = was.discarded;
				h->aged = was.aged;
				h->carved = 1;
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

/* Freed memory first, fresh memory last: the heap is persistent, so every
 * page the bump pointer reaches for the first time is a page more for each
 * snapshot to write and the image to hold. Carving a large free block puts
 * the rest back at the head of its list, so a run of small allocations
 * bumps through one block in O(1) each. */
static void *take(struct vm_root *r, uint64_t words, uint64_t reserve)
{
	if (words < VM_SMALL_LISTS && r->free_small[words]) {
		struct free_blk *b = (struct free_blk *)(uintptr_t)r->free_small[words];
		r->free_small[words] = (uint64_t)(uintptr_t)b->next;
		return b;
	}
	void *o = take_large(r, words);
	if (o != NULL)
		return o;
	if (r->heap_hi - r->bump >= words * 8 + reserve) {
		struct vm_obj *b = (struct vm_obj *)(uintptr_t)r->bump;
		r->bump += words * 8;
		if (r->bump > r->bump_peak)
			r->bump_peak = r->bump;
		b->words = (uint32_t)words;
		return b;
	}
	return NULL;
}

/* Marking work per allocated word: enough that a cycle normally ends
 * before the heap fills (the trigger leaves about `live` words of room). */
#define VM_GC_WORK_PER_WORD 4u
#define VM_GC_STEP_MIN      256u

/* The collector's share of an allocation of `words` to the old heap: start
 * a cycle after allocating as much as is live, but early enough that half
 * the free room is left for marking to finish incrementally before the
 * heap fills; while one runs, a step in proportion. */
static void pace(struct vm_ctx *ctx, uint64_t words)
{
	struct vm_root *r = ctx->root;
	if (r->gc_inhibit)
		return;
	uint64_t heap = (r->heap_hi - r->heap_lo) / 8;
	uint64_t room = heap > r->live_words ? (heap - r->live_words) / 2 : 0;
	uint64_t trigger = r->live_words < room ? r->live_words : room;
	if (trigger < VM_GC_MIN_WORDS)
		trigger = VM_GC_MIN_WORDS;
	if (r->gc_stress)
		vm_gc(ctx);
	else if (r->gc_marking || r->gc_sweeping)
		step(ctx, r->gc_incr_stress ? 8 : VM_GC_STEP_MIN + VM_GC_WORK_PER_WORD * words);
	else if (r->gc_incr_stress || r->alloc_words > trigger)
		begin_cycle(r);
}

/* A block just taken gets its header and colour: born black while
 * marking, marked ahead of the sweep cursor (the sweep keeps it). */
static void made(struct vm_root *r, struct vm_obj *o, struct vm_class *cls, uint32_t nrefs)
{
	o->cls = cls;
	o->nrefs = nrefs;
	uint64_t at = (uint64_t)(uintptr_t)o;
	bool black = r->gc_marking ||
		(r->gc_sweeping && at >= r->gc_sweep_at && at < r->gc_sweep_end);
	set_colour(r, o, black ? GC_MARK : 0);
	r->alloc_words += o->words;
	if (r->gc_marking || r->gc_sweeping)
		r->gc_cycle_words += o->words;
}

void *vm_alloc(struct vm_ctx *ctx, struct vm_class *cls, size_t words, uint32_t nrefs)
{
	struct vm_root *r = ctx->root;
	if (words < VM_OBJ_MIN_WORDS)
		words = VM_OBJ_MIN_WORDS;
	if (words > UINT32_MAX || nrefs > VM_NREFS_MAX || nrefs > words - 2)
		return NULL;
	pace(ctx, words);
	/* The nursery's survivors must always fit: bump room for them stays. */
	uint64_t reserve = r->young_top - r->young_lo;
	struct vm_obj *o = take(r, words, reserve);
	if (!o && !r->gc_inhibit) {
		/* Out of room: finish this cycle (coalescing everything if it
		 * has not begun sweeping), then try one full cycle. */
		if (r->gc_marking || r->gc_sweeping) {
			if (r->gc_marking)
				r->gc_full = 1;
			step(ctx, UINT64_MAX);
		}
		o = take(r, words, reserve);
		if (!o) {
			vm_gc(ctx);
			o = take(r, words, reserve);
		}
	}
	if (!o)
		return NULL;
	uint32_t w = o->words;         /* may exceed `words` after a split  */
	memset(o, 0, (size_t)w * 8);
	o->words = w;
	made(r, o, cls, nrefs);
	return o;
}

/* young.c: a survivor's new block. The nursery's reserve guarantees room
 * (a failure is a broken invariant, not a full heap). */
struct vm_obj *vm_heap_promote(struct vm_root *r, const struct vm_obj *young)
{
	struct vm_obj *o = take(r, young->words, 0);
	if (!o)
		return NULL;
	uint32_t w = o->words;
	memcpy(o, young, (size_t)young->words * 8);
	memset((uint64_t *)o + young->words, 0, (size_t)(w - young->words) * 8);
	o->words = w;
	made(r, o, young->cls, young->nrefs);
	return o;
}

void vm_heap_pace(struct vm_ctx *ctx, uint64_t words)
{
	pace(ctx, words);
}

/* A block the program may still reach: not free, and not a dead one the
 * sweep has yet to free (white ahead of its cursor, or in the run of dead
 * blocks it is gathering just behind it). */
static bool may_be_live(const struct vm_root *r, const struct vm_obj *o)
{
	if (!o->cls)
		return false;
	if (!r->gc_sweeping)
		return true;
	uint64_t a = (uint64_t)(uintptr_t)o;
	if (a >= r->gc_sweep_at - r->gc_sweep_run * 8 && a < r->gc_sweep_at)
		return false;
	if (a >= r->gc_sweep_at && a < r->gc_sweep_end)
		return colour(r, o) & GC_MARK;
	return true;
}

void vm_heap_each(struct vm_root *r, void (*fn)(void *arg, struct vm_obj *o), void *arg)
{
	for (uint64_t a = r->heap_lo; a < r->bump;) {
		struct vm_obj *o = (struct vm_obj *)(uintptr_t)a;
		a += (uint64_t)o->words * 8;
		if (may_be_live(r, o))
			fn(arg, o);
	}
}

bool vm_heap_marked(const struct vm_root *r, const struct vm_obj *o)
{
	return colour(r, o) & GC_MARK;
}
