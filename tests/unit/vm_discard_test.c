/* vm_discard_test.c — the collector hands free memory to the host's
 * discard hook (vm_set_discard) once it has stayed free for a whole cycle:
 * whole pages only, never a byte of a live object, the root or the mark
 * bitmap, each free block once; and the heap works on after the host has
 * scribbled over what it was given (the arena gives zeros back; this hook
 * fills the pages with 0xa5, so a heap that read them would notice). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../vm/internal.h"

#define REGION (8u << 20)
#define PAGE   4096u

static void *region;
static struct vm_ctx ctx;

struct range { uintptr_t lo, hi; };
static struct range given[64];
static unsigned ngiven;
static int bad_range;                 /* a range the hook must never see */
static uintptr_t keep_lo, keep_hi;    /* a live object the test watches  */

static void discard(void *arg, void *addr, size_t len)
{
	(void)arg;
	struct vm_root *r = ctx.root;
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;
	if (lo % PAGE || len % PAGE || len == 0 || lo < r->heap_lo ||
	    hi > r->heap_hi || (lo < keep_hi && keep_lo < hi) ||
	    (lo < r->bump && hi > r->bump) || ngiven == 64)
		bad_range++;
	else
		given[ngiven++] = (struct range){ lo, hi };
	memset(addr, 0xa5, len);
}

static struct vm_root *fresh(void)
{
	if (!region)
		region = aligned_alloc(PAGE, REGION);
	memset(&ctx, 0, sizeof ctx);
	vm_set_discard(&ctx, discard, NULL);
	if (vm_format(&ctx, region, REGION) != 0)
		return NULL;
	ngiven = 0;
	bad_range = 0;
	keep_lo = keep_hi = 0;
	return ctx.root;
}

/* One whole incremental cycle: lists are kept, blocks not coalesced. */
static void cycle(void)
{
	while (!vm_gc_step(&ctx, 1u << 20))
		;
}

/* Cycles until the block at addr is free or behind the bump pointer (one
 * allocated while a cycle marks is born black and outlives that cycle). */
static bool cycle_until_free(uint64_t addr)
{
	for (int k = 0; k < 4; k++) {
		cycle();
		struct vm_root *r = ctx.root;
		if (addr >= r->bump || ((struct vm_obj *)(uintptr_t)addr)->cls == NULL)
			return true;
	}
	return false;
}

static bool all_zero(const struct vm_array *a)
{
	for (uint64_t i = 0; i < a->h.nrefs; i++)
		if (a->data[i] != 0)
			return false;
	return true;
}

/* A dropped array at the end of the heap goes back to the bump pointer;
 * its pages are handed over one cycle later, once, and reused after. */
TEST(pages_above_the_bump_after_a_whole_cycle)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	vm_gc(&ctx);
	uint64_t bump0 = r->bump;
	struct vm_array *big = vm_new_array(&ctx, 256 * 1024);   /* 2 MiB */
	CHECK(big != NULL);
	uint64_t at = (uint64_t)(uintptr_t)big;
	uint64_t end = at + (uint64_t)big->h.words * 8;
	big = NULL;
	CHECK(cycle_until_free(at));   /* frees it: the bump returns */
	CHECKF(r->bump <= bump0 + 64, "bump %llu above %llu",
	       (unsigned long long)r->bump, (unsigned long long)bump0);
	CHECK_EQ(ngiven, 0);           /* it was in use during that cycle */
	cycle();
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);
	CHECK(given[0].lo >= r->bump && given[0].lo - r->bump < PAGE);
	CHECK_EQ(given[0].hi, (end + PAGE - 1) & ~(uint64_t)(PAGE - 1));
	cycle();
	vm_gc(&ctx);
	CHECK_EQ(ngiven, 1);           /* handed over once */
	/* Reused: allocation zeroes what the host scribbled on. */
	big = vm_new_array(&ctx, 256 * 1024);
	CHECK(big != NULL && all_zero(big));
	r->tmp[0] = vm_ref(big);
	vm_gc(&ctx);
	CHECK(all_zero(big));
	CHECK_EQ(bad_range, 0);
}

/* A dropped array in the middle of the heap becomes a free block: an
 * earlier cycle freed it, so the next sweep hands over its whole pages
 * after the header, once; the live neighbour is untouched. */
TEST(free_blocks_whole_pages_after_an_earlier_cycle)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	vm_gc(&ctx);
	struct vm_array *big = vm_new_array(&ctx, 128 * 1024 + 7);  /* 1 MiB */
	CHECK(big != NULL);
	r->tmp[0] = vm_ref(big);
	struct vm_array *keep = vm_new_array(&ctx, 10);
	CHECK(keep != NULL);
	keep->data[3] = vm_int(42);
	r->tmp[1] = vm_ref(keep);
	keep_lo = (uintptr_t)keep;
	keep_hi = keep_lo + (uint64_t)keep->h.words * 8;
	uint64_t lo = (uint64_t)(uintptr_t)big;
	uint64_t hi = lo + (uint64_t)big->h.words * 8;
	r->tmp[0] = VM_NULL;
	big = NULL;
	CHECK(cycle_until_free(lo));
	CHECK_EQ(ngiven, 0);
	cycle();                       /* meets it free: hands it over */
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);
	CHECK_EQ(given[0].lo, (lo + 16 + PAGE - 1) & ~(uint64_t)(PAGE - 1));
	CHECK_EQ(given[0].hi, hi & ~(uint64_t)(PAGE - 1));
	cycle();
	cycle();
	CHECK_EQ(ngiven, 1);           /* once */
	CHECK(keep->data[3] == vm_int(42));
	/* Carved in two, each part reads as zeros; the rest of the block
	 * keeps its mark and is not handed over again. */
	struct vm_array *a = vm_new_array(&ctx, 64 * 1024);
	CHECK(a != NULL && (uint64_t)(uintptr_t)a == lo && all_zero(a));
	r->tmp[0] = vm_ref(a);
	cycle();
	cycle();
	CHECK_EQ(ngiven, 1);
	struct vm_array *b = vm_new_array(&ctx, 60 * 1024);
	CHECK(b != NULL && all_zero(b));
	CHECK((uint64_t)(uintptr_t)b > lo && (uint64_t)(uintptr_t)b < hi);
	r->tmp[2] = vm_ref(b);
	vm_gc(&ctx);
	CHECK(all_zero(a) && all_zero(b));
	CHECK(keep->data[3] == vm_int(42));
	CHECK_EQ(bad_range, 0);
}

/* A free block the allocator cut since the last sweep is in use: it will
 * write those pages next, so they are handed over only after a cycle in
 * which it was left alone. */
TEST(a_block_being_carved_is_left_to_the_allocator)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	vm_gc(&ctx);
	struct vm_array *big = vm_new_array(&ctx, 128 * 1024);
	CHECK(big != NULL);
	r->tmp[0] = vm_ref(big);
	struct vm_array *keep = vm_new_array(&ctx, 10);     /* above it */
	CHECK(keep != NULL);
	r->tmp[1] = vm_ref(keep);
	uint64_t lo = (uint64_t)(uintptr_t)big;
	uint64_t hi = lo + (uint64_t)big->h.words * 8;
	r->tmp[0] = VM_NULL;
	big = NULL;
	CHECK(cycle_until_free(lo));
	CHECK_EQ(ngiven, 0);
	struct vm_array *a = vm_new_array(&ctx, 2000);      /* cut from it */
	CHECK(a != NULL && (uint64_t)(uintptr_t)a == lo);
	r->tmp[0] = vm_ref(a);
	cycle();
	CHECK_EQ(ngiven, 0);                                 /* being carved */
	cycle();
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);                                 /* left alone */
	uint64_t rest = lo + (uint64_t)a->h.words * 8;
	CHECK_EQ(given[0].lo, (rest + 16 + PAGE - 1) & ~(uint64_t)(PAGE - 1));
	CHECK_EQ(given[0].hi, hi & ~(uint64_t)(PAGE - 1));
}

/* Without a hook nothing is handed over, and a hook set later still gets
 * the memory that stayed free meanwhile. */
TEST(a_hook_set_later_still_gets_the_free_pages)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	vm_set_discard(&ctx, NULL, NULL);
	vm_gc(&ctx);
	CHECK(vm_new_array(&ctx, 256 * 1024) != NULL);
	cycle();
	cycle();
	cycle();
	CHECK_EQ(ngiven, 0);
	vm_set_discard(&ctx, discard, NULL);
	cycle();
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);
	CHECK(given[0].hi - given[0].lo >= (2u << 20) - 2 * PAGE);
}

int main(void)
{
	check_begin("vm_discard_test");
	RUN(pages_above_the_bump_after_a_whole_cycle);
	RUN(free_blocks_whole_pages_after_an_earlier_cycle);
	RUN(a_block_being_carved_is_left_to_the_allocator);
	RUN(a_hook_set_later_still_gets_the_free_pages);
	free(region);
	return check_done();
}
