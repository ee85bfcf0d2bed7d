/* vm_discard_test.c — the collector hands free memory to the host's
 * discard hook (vm_set_discard) once it has stayed free for the minimum
 * age: only at a discard pass (a sweep starting that long after the last
 * one), only memory free since the pass before, whole pages inside a free
 * block past its header or above the bump pointer, each block once, never
 * a block the allocator is carving; and the heap works on after the host
 * has scribbled over what it was given (the arena gives zeros back; this
 * hook fills the pages with 0xa5, so a heap that read them would notice).
 * The wall clock is the test's: a pass happens only when the test moves it
 * on by the age. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../vm/internal.h"

#define REGION   (8u << 20)
#define PAGE     4096u
#define AGE      1000000000ull    /* the hook's minimum age: 1 s      */
#define FREE_HDR 24u              /* a free block's header and link   */

static void *region;
static struct vm_ctx ctx;
static uint64_t now_ns = 1;

static uint64_t test_clock(void) { return now_ns; }

struct range { uintptr_t lo, hi; };
static struct range given[64];
static unsigned ngiven;
static uint64_t pages_given;
static int bad_range;                 /* a range the hook must never see */

static uint64_t up(uint64_t a) { return (a + PAGE - 1) & ~(uint64_t)(PAGE - 1); }
static uint64_t down(uint64_t a) { return a & ~(uint64_t)(PAGE - 1); }

/* [lo, hi) lies above the bump pointer (below the bitmap's first page) or
 * inside one free block, past its header: found by walking the headers. */
static bool range_is_free(uint64_t lo, uint64_t hi)
{
	struct vm_root *r = ctx.root;
	if (lo >= r->bump)
		return hi <= down(r->heap_hi);
	for (uint64_t a = r->heap_lo; a < r->bump;) {
		struct vm_obj *o = (struct vm_obj *)(uintptr_t)a;
		uint64_t end = a + (uint64_t)o->words * 8;
		if (o->words == 0)
			return false;
		if (lo < end)
			return o->cls == NULL && lo >= a + FREE_HDR && hi <= end;
		a = end;
	}
	return false;
}

static void discard(void *arg, void *addr, size_t len)
{
	(void)arg;
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;
	if (lo % PAGE || len % PAGE || len == 0 || !range_is_free(lo, hi))
		bad_range++;
	else if (ngiven < 64)
		given[ngiven++] = (struct range){ lo, hi };
	pages_given += len / PAGE;
	memset(addr, 0xa5, len);
}

static struct vm_root *fresh(void)
{
	if (!region)
		region = aligned_alloc(PAGE, REGION);
	memset(&ctx, 0, sizeof ctx);
	ctx.clock = test_clock;
	vm_set_discard(&ctx, discard, NULL, AGE);
	if (vm_format(&ctx, region, REGION) != 0)
		return NULL;
	ngiven = 0;
	pages_given = 0;
	bad_range = 0;
	return ctx.root;
}

/* One whole incremental cycle, the clock standing still: no pass. */
static void cycle(void)
{
	while (!vm_gc_step(&ctx, 1u << 20))
		;
}

/* A cycle whose sweep is a discard pass. */
static void pass(void)
{
	struct vm_root *r = ctx.root;
	if (r->gc_marking || r->gc_sweeping)
		cycle();
	now_ns += AGE;
	cycle();
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

/* A free block in the middle of the heap: an array of n slots with a
 * small live array after it (tmp[1], slot 3 holding 42), dropped and
 * collected. Its address, or 0; its end in *end. */
static uint64_t hole(uint64_t n, uint64_t *end)
{
	struct vm_root *r = ctx.root;
	struct vm_array *big = vm_new_array(&ctx, n);
	if (big == NULL)
		return 0;
	r->tmp[2] = vm_ref(big);
	struct vm_array *keep = vm_new_array(&ctx, 10);
	if (keep == NULL)
		return 0;
	keep->data[3] = vm_int(42);
	r->tmp[1] = vm_ref(keep);
	r->tmp[2] = VM_NULL;
	uint64_t at = (uint64_t)(uintptr_t)big;
	*end = at + (uint64_t)big->h.words * 8;
	return cycle_until_free(at) ? at : 0;
}

static bool all_zero(const struct vm_array *a)
{
	for (uint64_t i = 0; i < a->h.nrefs; i++)
		if (a->data[i] != 0)
			return false;
	return true;
}

/* A dropped array at the end of the heap goes back to the bump pointer;
 * its pages are handed over at the second pass after, once, and reused. */
TEST(pages_above_the_bump)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	pass();
	uint64_t bump0 = r->bump;
	struct vm_array *big = vm_new_array(&ctx, 256 * 1024);   /* 2 MiB */
	CHECK(big != NULL);
	uint64_t at = (uint64_t)(uintptr_t)big;
	uint64_t end = at + (uint64_t)big->h.words * 8;
	big = NULL;
	CHECK(cycle_until_free(at));   /* the bump returns */
	CHECK(r->bump <= bump0 + 64);
	for (int k = 0; k < 5; k++)
		vm_gc(&ctx);           /* no time passes: no pass */
	CHECK_EQ(ngiven, 0);
	pass();                        /* it was in use since the last pass */
	CHECK_EQ(ngiven, 0);
	pass();
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);
	CHECK_EQ(given[0].lo, up(r->bump));
	CHECK_EQ(given[0].hi, up(end));
	pass();
	vm_gc(&ctx);
	CHECK_EQ(ngiven, 1);           /* handed over once */
	/* Reused: allocation zeroes what the host scribbled on. */
	big = vm_new_array(&ctx, 256 * 1024);
	CHECK(big != NULL && all_zero(big));
	r->tmp[0] = vm_ref(big);
	pass();
	vm_gc(&ctx);
	CHECK(all_zero(big));
	CHECK_EQ(bad_range, 0);
}

/* A dropped array in the middle of the heap becomes a free block: the
 * first pass that sees it free marks it, the next hands over its whole
 * pages after the header, once; the live neighbour is untouched. */
TEST(free_blocks_after_two_passes)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	pass();
	uint64_t hi, lo = hole(128 * 1024 + 7, &hi);           /* 1 MiB */
	CHECK(lo != 0);
	struct vm_array *keep = vm_ptr(r->tmp[1]);
	pass();                        /* sees it free */
	cycle();
	vm_gc(&ctx);
	CHECK_EQ(ngiven, 0);
	pass();                        /* still free: handed over */
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);
	CHECK_EQ(given[0].lo, up(lo + FREE_HDR));
	CHECK_EQ(given[0].hi, down(hi));
	pass();
	pass();
	CHECK_EQ(ngiven, 1);           /* once */
	CHECK(keep->data[3] == vm_int(42));
	/* Carved in two, each part reads as zeros; the rest of the block
	 * keeps its mark and is not handed over again. */
	struct vm_array *a = vm_new_array(&ctx, 64 * 1024);
	CHECK(a != NULL && (uint64_t)(uintptr_t)a == lo && all_zero(a));
	r->tmp[0] = vm_ref(a);
	pass();
	pass();
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

/* A free block's header and link end 24 bytes in: when that crosses into
 * the next page (the block starts 16 bytes before a page boundary), the
 * page holding the link stays. */
TEST(the_link_page_stays)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	pass();
	uint64_t t = down(r->bump) + PAGE - 16;
	while (t < r->bump + 8 * VM_OBJ_MIN_WORDS)
		t += PAGE;
	struct vm_array *pad = vm_new_array(&ctx, (t - r->bump) / 8 - 2);
	CHECK(pad != NULL);
	r->tmp[0] = vm_ref(pad);
	struct vm_array *big = vm_new_array(&ctx, 4 * PAGE / 8);
	CHECK(big != NULL);
	CHECK_EQ((uint64_t)(uintptr_t)big % PAGE, PAGE - 16);
	r->tmp[1] = vm_ref(big);
	r->tmp[2] = vm_ref(vm_new_array(&ctx, 10));          /* above it */
	uint64_t lo = (uint64_t)(uintptr_t)big;
	r->tmp[1] = VM_NULL;
	big = NULL;
	CHECK(cycle_until_free(lo));
	pass();
	pass();
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);
	CHECK_EQ(given[0].lo, lo + 16 + PAGE);
	/* The block's link survived: its list still leads to it. */
	struct vm_array *again = vm_new_array(&ctx, 4 * PAGE / 8);
	CHECK(again != NULL && (uint64_t)(uintptr_t)again == lo && all_zero(again));
}

/* A free block the allocator cut since the last pass is in use: it will
 * write those pages next, so they are handed over only after a pass
 * interval in which it was left alone. */
TEST(a_block_being_carved_is_left_to_the_allocator)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	pass();
	uint64_t hi, lo = hole(128 * 1024, &hi);
	CHECK(lo != 0);
	pass();                                              /* seen free */
	struct vm_array *a = vm_new_array(&ctx, 2000);      /* cut from it */
	CHECK(a != NULL && (uint64_t)(uintptr_t)a == lo);
	r->tmp[0] = vm_ref(a);
	pass();
	CHECK_EQ(ngiven, 0);                                 /* being carved */
	pass();
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);                                 /* left alone */
	uint64_t rest = lo + (uint64_t)a->h.words * 8;
	CHECK_EQ(given[0].lo, up(rest + FREE_HDR));
	CHECK_EQ(given[0].hi, down(hi));
}

/* A full collection merges a newly dead object with the aged free block
 * above it: the merged block is new to the passes (the dead part was in
 * use), so the next pass only marks it and the one after hands it over. */
TEST(a_merged_block_is_as_young_as_its_youngest_part)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	pass();
	struct vm_array *dead = vm_new_array(&ctx, 1000);
	CHECK(dead != NULL);
	r->tmp[0] = vm_ref(dead);
	uint64_t lo = (uint64_t)(uintptr_t)dead, hi, at = hole(128 * 1024, &hi);
	CHECK_EQ(lo + (uint64_t)dead->h.words * 8, at);   /* neighbours */
	pass();                        /* the big block is aged */
	r->tmp[0] = VM_NULL;           /* the object below it dies */
	dead = NULL;
	vm_gc(&ctx);                   /* merged, no time passing */
	CHECK(((struct vm_obj *)(uintptr_t)lo)->cls == NULL);
	CHECK_EQ(((struct vm_obj *)(uintptr_t)lo)->words, (hi - lo) / 8);
	pass();
	CHECK_EQ(ngiven, 0);
	pass();
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);
	CHECK_EQ(given[0].lo, up(lo + FREE_HDR));
	CHECK_EQ(given[0].hi, down(hi));
}

/* Collections back to back, as when memory runs short (vm_alloc finishes
 * the cycle, then runs a full one), hand over nothing within the age. */
TEST(back_to_back_collections_wait_for_the_age)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	pass();
	pass();
	uint64_t before = pages_given;
	for (int k = 0; k < 20; k++) {
		struct vm_array *big = vm_new_array(&ctx, 64 * 1024 + k);
		CHECK(big != NULL);
		r->tmp[k % 4] = vm_ref(big);
		vm_gc(&ctx);
		vm_gc(&ctx);
	}
	CHECK_EQ(pages_given, before);
	CHECK_EQ(bad_range, 0);
}

/* Idle collection until there is none; false if it never stops. */
static bool drain_idle(void)
{
	for (int k = 0; k < 100000; k++)
		if (!vm_gc_idle(&ctx, 1u << 16))
			return true;
	return false;
}

/* A program that drops memory and then only sleeps gets it back through
 * idle collection (vm_gc_idle): nothing before the age, a pass per age
 * while something may be handed over, and then no cycle at all. */
TEST(an_idle_program_gets_its_dropped_memory_back)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	pass();
	uint64_t hi, lo = hole(128 * 1024, &hi);
	CHECK(lo != 0);
	CHECK(vm_new_array(&ctx, 256 * 1024) != NULL);   /* dropped at the end */
	CHECK(drain_idle());           /* a cycle in progress may finish */
	CHECK(drain_idle());
	CHECK_EQ(ngiven, 0);           /* no pass due */
	for (int k = 0; k < 2; k++) {
		now_ns += AGE;
		CHECK(drain_idle());
	}
	CHECK_EQ(bad_range, 0);
	bool hole_given = false;
	for (unsigned i = 0; i < ngiven; i++)
		hole_given |= given[i].lo == up(lo + FREE_HDR) && given[i].hi == down(hi);
	CHECK(hole_given);
	CHECK(pages_given >= (3u << 20) / PAGE - 8);     /* the hole and the end */
	for (int k = 0; k < 4; k++) {  /* what freeing left in small pieces */
		uint64_t c0 = vm_gc_cycles(&ctx);
		now_ns += AGE;
		CHECK(drain_idle());
		CHECK(vm_gc_cycles(&ctx) - c0 <= 1);     /* a cycle per age */
	}
	uint64_t cycles = vm_gc_cycles(&ctx), given_then = pages_given;
	for (int k = 0; k < 3; k++) {
		now_ns += AGE;
		CHECK(!vm_gc_idle(&ctx, 1u << 16));
	}
	CHECK_EQ(vm_gc_cycles(&ctx), cycles);            /* idle costs nothing */
	CHECK_EQ(pages_given, given_then);
	vm_set_discard(&ctx, NULL, NULL, 0);             /* no hook: no work */
	CHECK(vm_new_array(&ctx, 1000) != NULL);
	now_ns += AGE;
	CHECK(!vm_gc_idle(&ctx, 1u << 16));
}

/* An array allocated while a sweep runs, at the bump pointer (so not born
 * black: behind nothing the sweep still has to look at), outlives that
 * sweep; an idle program still gets it back. */
TEST(an_array_allocated_during_a_sweep_is_not_forgotten)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	pass();
	pass();
	CHECK(!vm_gc_step(&ctx, 0));   /* a cycle starts */
	while (!r->gc_sweeping)
		vm_gc_step(&ctx, 64);
	r->gc_inhibit = 1;             /* no collector work in this allocation */
	struct vm_array *a = vm_new_array(&ctx, 256 * 1024);
	r->gc_inhibit = 0;
	CHECK(a != NULL && r->gc_sweeping);
	CHECK((uint64_t)(uintptr_t)a >= r->gc_sweep_end);
	a = NULL;
	uint64_t cycles = vm_gc_cycles(&ctx);
	for (int k = 0; k < 4; k++) {
		now_ns += AGE;
		CHECK(drain_idle());
		CHECKF(vm_gc_cycles(&ctx) - cycles <= (uint64_t)k + 2,
		       "%llu cycles in %d ages",
		       (unsigned long long)(vm_gc_cycles(&ctx) - cycles), k + 1);
	}
	CHECK_EQ(bad_range, 0);
	CHECKF(pages_given >= (2u << 20) / PAGE - 2, "%llu pages handed over",
	       (unsigned long long)pages_given);
}

/* Without a hook nothing is handed over; a hook set later gets what stays
 * free from its first pass on. */
TEST(a_hook_set_later_gets_the_free_pages)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	vm_set_discard(&ctx, NULL, NULL, 0);
	pass();
	CHECK(vm_new_array(&ctx, 256 * 1024) != NULL);
	pass();
	pass();
	CHECK_EQ(ngiven, 0);
	vm_set_discard(&ctx, discard, NULL, AGE);
	pass();
	CHECK_EQ(ngiven, 0);
	pass();
	CHECK_EQ(bad_range, 0);
	CHECK_EQ(ngiven, 1);
	CHECK(given[0].hi - given[0].lo >= (2u << 20) - 2 * PAGE);
}

/* Random churn of arrays from a few words to 1.5 MiB through 64 rooted
 * slots, each filled with a pattern, with passes, incremental steps and
 * full collections at random: every array reads back whole, every new one
 * reads as zeros, and the hook sees only free memory. */
static uint64_t rnd(void)
{
	static uint64_t x = 7;
	uint64_t z = (x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	return z ^ (z >> 27);
}

TEST(random_churn_reads_back_whole)
{
	struct vm_root *r = fresh();
	CHECK(r != NULL);
	struct vm_array *slots = vm_new_array(&ctx, 64);
	CHECK(slots != NULL);
	r->tmp[0] = vm_ref(slots);
	uint32_t tag[64] = { 0 };
	int wrong = 0, nonzero = 0;
	for (int it = 0; it < 8000 && !wrong && !nonzero; it++) {
		unsigned i = (unsigned)(rnd() % 64);
		static const uint64_t sizes[] = { 8, 100, 2000, 20000, 200000 };
		uint64_t n = 1 + rnd() % sizes[rnd() % 5];
		vm_gc_shade(r, slots->data[i]);
		slots->data[i] = VM_NULL;
		struct vm_array *a = vm_new_array(&ctx, n);
		if (a == NULL)
			continue;
		nonzero += !all_zero(a);
		tag[i] = (uint32_t)rnd() & 0xffffff;
		for (uint64_t j = 0; j < n; j++)
			a->data[j] = vm_int((int32_t)(tag[i] + j));
		slots->data[i] = vm_ref(a);
		if (rnd() % 50 == 0)
			now_ns += AGE;         /* the next sweep is a pass */
		if (rnd() % 3 == 0)
			vm_gc_step(&ctx, rnd() % 5000);
		if (rnd() % 1000 == 0)
			vm_gc(&ctx);
		if (it % 500 == 0)
			for (unsigned k = 0; k < 64; k++) {
				if (!vm_is_ref(slots->data[k]))
					continue;
				struct vm_array *s = vm_ptr(slots->data[k]);
				for (uint64_t j = 0; j < s->h.nrefs; j++)
					wrong += s->data[j] != vm_int((int32_t)(tag[k] + j));
			}
	}
	CHECK_EQ(wrong, 0);
	CHECK_EQ(nonzero, 0);
	CHECK_EQ(bad_range, 0);
	CHECKF(pages_given > 100, "only %llu pages handed over",
	       (unsigned long long)pages_given);
}

int main(void)
{
	check_begin("vm_discard_test");
	RUN(pages_above_the_bump);
	RUN(free_blocks_after_two_passes);
	RUN(the_link_page_stays);
	RUN(a_block_being_carved_is_left_to_the_allocator);
	RUN(a_merged_block_is_as_young_as_its_youngest_part);
	RUN(back_to_back_collections_wait_for_the_age);
	RUN(an_idle_program_gets_its_dropped_memory_back);
	RUN(an_array_allocated_during_a_sweep_is_not_forgotten);
	RUN(a_hook_set_later_gets_the_free_pages);
	RUN(random_churn_reads_back_whole);
	free(region);
	return check_done();
}
