/* ktest_arena.c — test=arena: the arena half of plat_ops on bare metal,
 * through the plat.h wrappers the core uses: reserve, protect, lazy zero
 * pages, page_fill, discard, release, and the fault handler seeing exactly
 * the forbidden accesses, also from several threads whose handlers block. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "ktest.h"
#include "plat.h"
#include "xarena.h"

#define PG PLAT_PAGE_SIZE
#define KT_FAULTED() __asm__ volatile("" ::: "memory")

struct arena_faults {
	volatile int calls, writes;
	volatile uint64_t last;
	bool sleep;                     /* block inside the handler */
};

static bool arena_hook(void *ctx, void *addr, bool is_write)
{
	struct arena_faults *af = ctx;
	af->calls++;
	af->writes += is_write;
	af->last = (uint64_t)addr;
	if (af->sleep)
		plat_sleep_ns(2000000);         /* another thread runs meanwhile */
	void *page = (void *)((uint64_t)addr & ~(uint64_t)(PG - 1));
	return plat_mem_protect(page, PG, is_write ? PLAT_PROT_RW : PLAT_PROT_READ) == 0;
}

static uint8_t *arena;
static volatile int writers_done;

static void writer(void *arg)
{
	uint64_t i = (uint64_t)arg;
	volatile uint8_t *p = arena + (100 + i) * PG;
	*p = (uint8_t)(i + 1);
	KT_FAULTED();
	writers_done++;
}

void ktest_arena(void)
{
	static struct arena_faults af;
	static uint8_t src[PG];
	void *base = NULL;
	const uint64_t size = 1ul << 30;

	KT_CHECK(strcmp(plat_active->name, "x86_64") == 0, "platform_installed");
	KT_CHECK(plat_arena_reserve(size, &base) == 0 && base == (void *)PLAT_ARENA_BASE,
		 "reserve_at_fixed_address");
	KT_CHECK(plat_arena_reserve(size, &base) == -ERR_BUSY, "second_reserve_refused");
	arena = base;
	KT_CHECK(plat_set_fault_handler(arena_hook, &af) == 0, "set_handler");
	KT_CHECK(plat_mem_protect(arena + 1, PG, PLAT_PROT_RW) == -ERR_INVAL, "unaligned_refused");
	KT_CHECK(plat_mem_protect(arena + size - PG, 2 * PG, PLAT_PROT_RW) == -ERR_RANGE,
		 "past_end_refused");
	/* The whole gigabyte: cheap, it only drops (absent) entries. */
	KT_CHECK(plat_mem_protect(arena, size, PLAT_PROT_NONE) == 0, "protect_all_none");

	/* Zero pages: RW pages read as zeros and take writes without any
	 * handler call; only touched pages get frames. */
	KT_CHECK(plat_mem_protect(arena, 16 * PG, PLAT_PROT_RW) == 0, "protect_rw");
	uint8_t z = arena[3 * PG + 5];
	arena[4 * PG] = 9;
	KT_FAULTED();
	KT_CHECK(z == 0 && arena[4 * PG] == 9 && af.calls == 0, "rw_zero_pages_no_fault");
	KT_CHECK(xarena_resident_pages() == 2, "only_touched_pages_resident");

	/* Dirty tracking: READ then a write faults as a write. */
	KT_CHECK(plat_mem_protect(arena, 16 * PG, PLAT_PROT_READ) == 0, "protect_read");
	uint8_t r = arena[4 * PG];
	KT_FAULTED();
	KT_CHECK(r == 9 && af.calls == 0, "read_allowed");
	arena[4 * PG + 1] = 10;
	KT_FAULTED();
	KT_CHECK(af.calls == 1 && af.writes == 1 && af.last == (uint64_t)arena + 4 * PG + 1,
		 "write_fault_seen_as_write");
	KT_CHECK(arena[4 * PG + 1] == 10, "write_lands_after_handler");

	/* NONE: a read faults as a read. */
	KT_CHECK(plat_mem_protect(arena + 5 * PG, PG, PLAT_PROT_NONE) == 0, "protect_none");
	r = arena[5 * PG + 7];
	KT_FAULTED();
	KT_CHECK(af.calls == 2 && af.writes == 1 && r == 0, "read_fault_seen_as_read");

	/* Lazy page-in: page_fill installs contents and protection at once. */
	for (unsigned i = 0; i < PG; i++)
		src[i] = (uint8_t)(i * 13 + 1);
	KT_CHECK(plat_page_fill(arena + 40 * PG, src, PLAT_PROT_READ) == 0, "page_fill");
	KT_CHECK(memcmp(arena + 40 * PG, src, PG) == 0 && af.calls == 2, "filled_page_readable");
	arena[40 * PG] = 0;
	KT_FAULTED();
	KT_CHECK(af.calls == 3 && af.writes == 2 && arena[40 * PG] == 0, "filled_page_write_faults");
	src[0] = 0xee;
	KT_CHECK(plat_page_fill(arena + 40 * PG, src, PLAT_PROT_RW) == 0 &&
		 arena[40 * PG] == 0xee && af.calls == 3, "page_fill_replaces");

	/* Discard: contents become zeros, protection stays, the frame goes. */
	uint64_t before = xarena_resident_pages();
	KT_CHECK(plat_mem_discard(arena + 40 * PG, PG) == 0, "discard");
	KT_CHECK(xarena_resident_pages() == before - 1, "discard_frees_frame");
	KT_CHECK(arena[40 * PG] == 0 && af.calls == 3, "discarded_reads_zero_keeps_prot");

	/* Handlers that block, on several threads at once. */
	af.sleep = true;
	KT_CHECK(plat_mem_protect(arena + 100 * PG, 4 * PG, PLAT_PROT_READ) == 0, "protect_for_threads");
	plat_thread *t[4];
	bool ok = true;
	int calls0 = af.calls;
	for (uint64_t i = 0; i < 4; i++)
		ok &= plat_thread_create(&t[i], writer, (void *)i, "writer") == 0;
	for (int i = 0; i < 4; i++)
		ok &= plat_thread_join(t[i]) == 0;
	ok &= writers_done == 4 && af.calls == calls0 + 4;
	for (uint64_t i = 0; i < 4; i++)
		ok &= arena[(100 + i) * PG] == i + 1;
	KT_CHECK(ok, "threads_fault_and_block_in_handler");

	KT_CHECK(plat_arena_release() == 0 && xarena_resident_pages() == 0, "release_frees_all");
	KT_CHECK(plat_arena_reserve(size, &base) == 0 && plat_arena_release() == 0,
		 "reserve_again_after_release");
	kt_finish();
}
