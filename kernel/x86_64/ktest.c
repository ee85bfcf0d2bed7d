/* ktest.c — in-kernel tests for the QEMU suite (tests/qemu/) and the
 * test=NAME dispatcher: pagefault (a deliberate fault must produce the panic
 * dump), paging (map, protect, dirty bit and the arena fault hook), timer
 * (ticks, monotonic and wall time), blk (virtio-blk: write=1 writes a
 * pattern, flushes and reads it back; without it, checks the pattern a
 * previous boot left), powercut (commits until killed, then recovers),
 * entropy (the source named by src= gives varied, non-repeating bytes;
 * src=none must fail cleanly). Others live in ktest_*.c. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "entropy.h"
#include "kcmd.h"
#include "ktest.h"
#include "memlayout.h"
#include "pmm.h"
#include "timer.h"
#include "virtio_blk.h"
#include "trap.h"
#include "vmm.h"

static const char *kt_name;
static int kt_failed;

void kt_check(bool ok, const char *what, const char *why)
{
	if (ok) {
		kprintf("KTEST PASS: %s/%s\n", kt_name, what);
	} else {
		kprintf("KTEST FAIL: %s/%s: %s\n", kt_name, what, why);
		kt_failed++;
	}
}
void kt_finish(void)
{
	kprintf("KTEST DONE: %s: %d failed\n", kt_name, kt_failed);
	kexit(kt_failed ? KEXIT_FAIL : KEXIT_PASS);
}

/* ---- pagefault: this store must end in the panic dump, never return. */
#define KT_FAULT_ADDR 0xffff900000000ff8ul

__attribute__((noinline)) static void ktest_fault_here(volatile uint64_t *p)
{
	*p = 0x5a5a5a5a;
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void ktest_pagefault(void)
{
	ktest_fault_here((volatile uint64_t *)KT_FAULT_ADDR);
	kt_check(false, "fault", "the store to an unmapped page returned");
	kt_finish();
}

/* ---- paging */
struct kt_fault {
	int calls;
	uint64_t addr;
	bool is_write;
	bool fill;                  /* map a fresh page on a not-present fault */
};

static bool kt_hook(void *ctx, void *addr, bool is_write)
{
	struct kt_fault *kf = ctx;
	uint64_t page = (uint64_t)addr & ~0xffful, pte;
	kf->calls++;
	kf->addr = (uint64_t)addr;
	kf->is_write = is_write;
	if (vmm_query(page, &pte) == 0)       /* holds a frame: upgrade it */
		return vmm_protect(page, is_write ? VMM_P | VMM_W : VMM_P) == 0;
	if (!kf->fill)
		return false;
	uint64_t pa = pmm_alloc();
	if (pa == 0)
		return false;
	memset(phys_to_virt(pa), 0xab, PMM_PAGE);   /* the "paged-in" contents */
	return vmm_map(page, pa, is_write ? VMM_W : 0) == 0;
}

/* A faulting access runs the hook behind the compiler's back: after one,
 * values the hook wrote must be reloaded from memory. */
#define KT_FAULTED() __asm__ volatile("" ::: "memory")

static void ktest_paging(void)
{
	struct kt_fault kf = { 0 };
	volatile uint64_t *p = (volatile uint64_t *)(PLAT_ARENA_BASE + 5 * PMM_PAGE);
	uint64_t va = (uint64_t)p, pa = pmm_alloc_zeroed(), pte = 0, got = 0;
	bool dirty = false;

	vmm_set_fault_hook(kt_hook, &kf);
	KT_CHECK(pa != 0 && vmm_map(va, pa, VMM_W) == 0, "map");
	p[1] = 0x1122334455667788ul;
	KT_CHECK(((uint64_t *)phys_to_virt(pa))[1] == 0x1122334455667788ul, "map_hits_frame");
	KT_CHECK(vmm_map(va, pa, VMM_W) == -ERR_EXIST, "map_twice_refused");
	KT_CHECK(vmm_map(0x0000900000000000ul, pa, VMM_W) == -ERR_INVAL, "noncanonical_refused");
	KT_CHECK(vmm_test_clear_dirty(va, &dirty) == 0 && dirty, "dirty_after_write");
	KT_CHECK(vmm_test_clear_dirty(va, &dirty) == 0 && !dirty, "dirty_cleared");

	KT_CHECK(vmm_protect(va, VMM_P) == 0, "protect_readonly");
	got = p[1];
	KT_FAULTED();
	KT_CHECK(got == 0x1122334455667788ul && kf.calls == 0, "read_of_readonly_no_fault");
	KT_CHECK(vmm_test_clear_dirty(va, &dirty) == 0 && !dirty, "read_leaves_clean");
	p[2] = 42;
	KT_FAULTED();
	KT_CHECK(kf.calls == 1 && kf.is_write && kf.addr == va + 16, "write_fault_hook_is_write");
	KT_CHECK(p[2] == 42 && vmm_query(va, &pte) == 0 && (pte & VMM_W), "write_completed_after_hook");
	KT_CHECK(vmm_test_clear_dirty(va, &dirty) == 0 && dirty, "dirty_after_hooked_write");

	KT_CHECK(vmm_protect(va, 0) == 0, "protect_none");
	got = p[1];
	KT_FAULTED();
	KT_CHECK(kf.calls == 2 && !kf.is_write && got == 0x1122334455667788ul,
		 "read_fault_hook_not_write");

	/* Lazy page-in: a read of an empty arena page maps it read-only with
	 * its contents; the first write then faults again, as a write. */
	volatile uint8_t *q = (volatile uint8_t *)(PLAT_ARENA_BASE + 77 * PMM_PAGE + 3);
	kf.fill = true;
	uint8_t b = *q;
	KT_FAULTED();
	KT_CHECK(kf.calls == 3 && !kf.is_write && b == 0xab, "lazy_page_in_read");
	*q = 7;
	KT_FAULTED();
	KT_CHECK(kf.calls == 4 && kf.is_write && *q == 7, "write_after_page_in");

	uint64_t out = 0;
	KT_CHECK(vmm_unmap(va, &out) == 0 && out == pa, "unmap_returns_frame");
	KT_CHECK(vmm_query(va, &pte) == -ERR_NOENT && !vmm_is_mapped(va), "unmapped_gone");
	KT_CHECK(vmm_unmap(va, NULL) == -ERR_NOENT, "unmap_twice_refused");
	pmm_free(out);

	/* The heap region is mapped end to end and writable. */
	volatile uint64_t *h = (volatile uint64_t *)KHEAP_BASE;
	h[0] = 1;
	KT_CHECK(h[0] == 1 && vmm_is_mapped(KHEAP_BASE), "heap_mapped");
	vmm_set_fault_hook(NULL, NULL);
	kt_finish();
}

/* ---- timer */
static void ktest_timer(void)
{
	uint64_t t0 = timer_monotonic_ns(), k0 = timer_ticks();
	while (timer_ticks() < k0 + 50)
		cpu_sti_hlt();                  /* wakes only on an interrupt */
	uint64_t t1 = timer_monotonic_ns();
	KT_CHECK(t1 > t0, "monotonic_advances");
	/* 50 ticks of 1 ms: the counter-interpolated clock must agree. */
	KT_CHECK(t1 - t0 >= 48000000ul && t1 - t0 <= 52000000ul, "monotonic_matches_ticks");

	uint64_t prev = timer_monotonic_ns(), distinct = 0;
	bool back = false;
	for (int i = 0; i < 20000; i++) {
		uint64_t t = timer_monotonic_ns();
		back |= t < prev;
		distinct += t != prev;
		prev = t;
	}
	KT_CHECK(!back, "monotonic_never_decreases");
	KT_CHECK(distinct > 50, "sub_tick_resolution");

	uint64_t now = kcmd_get_u64("now", 0), wall = timer_wall_ns() / 1000000000ul;
	KT_CHECK(now != 0 && wall + 120 >= now && wall <= now + 120, "wall_clock_matches_host");
	kprintf("timer: %lu ns over 50 ticks, wall %lu, host %lu\n", t1 - t0, wall, now);
	kt_finish();
}

/* ---- blk: sectors [KT_BLK_FIRST, +KT_BLK_COUNT) each hold their number as
 * text, so the host side (tests/qemu/blk_test.sh) can check the image. */
#define KT_BLK_FIRST 24u
#define KT_BLK_COUNT 300u                /* 150 KiB: several bounce buffers */

static void kt_blk_pattern(uint8_t *buf, unsigned first, unsigned count, unsigned gen)
{
	for (unsigned s = 0; s < count; s++) {
		uint8_t *p = buf + s * PLAT_SECTOR_SIZE;
		memset(p, '.', PLAT_SECTOR_SIZE);
		ksnprintf((char *)p, 40, "PHANTOM-BLK gen %u sector %08u", gen, first + s);
		p[PLAT_SECTOR_SIZE - 1] = '\n';
	}
}

static void ktest_blk(void)
{
	static uint8_t want[KT_BLK_COUNT * PLAT_SECTOR_SIZE];
	static uint8_t got[KT_BLK_COUNT * PLAT_SECTOR_SIZE];
	struct plat_blk *b = NULL;
	uint64_t off = KT_BLK_FIRST * PLAT_SECTOR_SIZE;
	unsigned gen = (unsigned)kcmd_get_u64("gen", 1);
	bool write = kcmd_get("write") != NULL;

	int rc = drv_vblk_open(0, &b);
	KT_CHECK(rc == 0, "open");
	if (rc != 0)
		kt_finish();
	KT_CHECK(b->size == kcmd_get_u64("size", 0), "size_matches_image");
	kt_blk_pattern(want, KT_BLK_FIRST, KT_BLK_COUNT, gen);
	if (write) {
		KT_CHECK(plat_blk_write(b, off, want, sizeof(want)) == 0, "write");
		KT_CHECK(plat_blk_flush(b) == 0, "flush");
	}
	memset(got, 0, sizeof(got));
	KT_CHECK(plat_blk_read(b, off, got, sizeof(got)) == 0, "read");
	KT_CHECK(memcmp(got, want, sizeof(want)) == 0, write ? "read_back" : "persisted");
	KT_CHECK(plat_blk_read(b, 1, got, PLAT_SECTOR_SIZE) == -ERR_INVAL, "unaligned_refused");
	KT_CHECK(plat_blk_read(b, b->size - PLAT_SECTOR_SIZE, got, 2 * PLAT_SECTOR_SIZE) == -ERR_RANGE,
		 "past_end_refused");
	KT_CHECK(plat_blk_read(b, b->size - PLAT_SECTOR_SIZE, got, PLAT_SECTOR_SIZE) == 0,
		 "last_sector_readable");
	kt_finish();
}

/* ---- powercut: commits generations until QEMU is killed (commit=1), or
 * checks that the last committed one survived (commit absent). Protocol:
 * record, flush, super (one sector), flush: a super naming generation G
 * is only written once G's record is durable. */
#define KT_SUPER_SECTOR 0u
#define KT_REC_SECTOR(g) (64u + ((g) % 16u) * 8u)

static void kt_record(uint8_t *rec, unsigned gen)
{
	for (unsigned i = 0; i < 4096; i++)
		rec[i] = (uint8_t)(gen * 7u + i);
	ksnprintf((char *)rec, 32, "REC gen %u", gen);
}

static void ktest_powercut(void)
{
	static uint8_t rec[4096], got[4096], super[PLAT_SECTOR_SIZE];
	struct plat_blk *b = NULL;
	int rc = drv_vblk_open(0, &b);
	KT_CHECK(rc == 0, "open");
	if (rc != 0)
		kt_finish();
	if (kcmd_get("commit") != NULL) {
		for (unsigned gen = 1;; gen++) {
			kt_record(rec, gen);
			memset(super, 0, sizeof(super));
			ksnprintf((char *)super, 40, "PHANTOM-SUPER gen %u", gen);
			if (plat_blk_write(b, KT_REC_SECTOR(gen) * 512ul, rec, sizeof(rec)) != 0 ||
			    plat_blk_flush(b) != 0 ||
			    plat_blk_write(b, KT_SUPER_SECTOR * 512ul, super, sizeof(super)) != 0 ||
			    plat_blk_flush(b) != 0) {
				kt_check(false, "commit", "an I/O failed");
				kt_finish();
			}
			kprintf("COMMITTED gen %u\n", gen);
		}
	}
	KT_CHECK(plat_blk_read(b, KT_SUPER_SECTOR * 512ul, super, sizeof(super)) == 0, "read_super");
	unsigned gen = 0;
	const char *s = (const char *)super, *prefix = "PHANTOM-SUPER gen ";
	bool ok = strncmp(s, prefix, strlen(prefix)) == 0;
	for (s += strlen(prefix); ok && *s >= '0' && *s <= '9'; s++)
		gen = gen * 10 + (unsigned)(*s - '0');
	KT_CHECK(ok && gen > 0, "super_valid");
	kt_record(rec, gen);
	KT_CHECK(plat_blk_read(b, KT_REC_SECTOR(gen) * 512ul, got, sizeof(got)) == 0 &&
		 memcmp(got, rec, sizeof(rec)) == 0, "record_of_super_intact");
	kprintf("RECOVERED gen %u\n", gen);
	kt_finish();
}

/* ---- entropy */
static unsigned kt_distinct(const uint8_t *p, size_t n)
{
	bool seen[256] = { false };
	unsigned d = 0;
	for (size_t i = 0; i < n; i++) {
		d += !seen[p[i]];
		seen[p[i]] = true;
	}
	return d;
}

static void ktest_entropy(void)
{
	static uint8_t a[1024], b[1024];
	const char *want = kcmd_get("src");
	const char *src = ent_init();
	KT_CHECK(want != NULL && strcmp(src ? src : "none", want) == 0, "source_as_expected");
	if (src == NULL) {
		KT_CHECK(ent_fill(a, sizeof(a)) == -ERR_NOTSUP, "no_source_refused");
		kt_finish();
	}
	KT_CHECK(ent_fill(a, sizeof(a)) == 0 && ent_fill(b, sizeof(b)) == 0, "fill");
	/* 1024 random bytes hit ~250 of 256 values; a stuck or short source
	 * (zeros, a repeated word) hits few. */
	KT_CHECK(kt_distinct(a, sizeof(a)) >= 200 && kt_distinct(b, sizeof(b)) >= 200,
		 "bytes_varied");
	KT_CHECK(memcmp(a, b, sizeof(a)) != 0, "fills_differ");
	uint8_t odd[3] = { 0, 0, 0 };
	KT_CHECK(ent_fill(odd, sizeof(odd)) == 0, "odd_length");
	kt_finish();
}

void ktest_run(const char *name)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "pagefault", ktest_pagefault },
		{ "paging", ktest_paging },
		{ "timer", ktest_timer },
		{ "blk", ktest_blk },
		{ "powercut", ktest_powercut },
		{ "entropy", ktest_entropy },
		{ "threads", ktest_threads },
		{ "arena", ktest_arena },
		{ "persist", ktest_persist },
		{ "image", ktest_image },
		{ "stackoverflow", ktest_stackoverflow },
	};
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (strcmp(tests[i].name, name) == 0) {
			kt_name = name;
			kprintf("KTEST START: %s\n", name);
			tests[i].fn();
		}
	}
}
