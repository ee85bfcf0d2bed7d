/* vmtest.h — shared helpers of the VM's thread, root-directory and I/O unit
 * tests: assemble a program into a region at a fixed address, drive the
 * scheduler on a fake or real wall clock, and "crash and restore" the
 * region by copying its bytes aside and back into a fresh mapping. */
#ifndef PHANTOM_TESTS_VMTEST_H
#define PHANTOM_TESTS_VMTEST_H
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "check.h"
#include "../../cluster-tools/asm/asm.h"
#include "../../vm/classfile.h"
#include "../../vm/internal.h"
#include "../../vm/vm.h"

#define VT_ADDR   ((void *)0x310000000000ull)
#define VT_REGION (8u << 20)

#define CHECK_STR(got, want) CHECKF(strcmp((got), (want)) == 0, "got <<%s>> want <<%s>>", (got), (want))

struct vt_cap { char buf[16384]; size_t n; };
static struct vt_cap vt_out;
static void vt_cap_out(void *arg, const char *s, size_t n)
{
	struct vt_cap *c = arg;
	if (c->n + n < sizeof c->buf) {
		memcpy(c->buf + c->n, s, n);
		c->n += n;
		c->buf[c->n] = 0;
	}
}

static uint64_t vt_now = 1700000000ull * 1000000000ull;   /* fake wall clock */
/* The nursery of the next vt_boot (0: the VM's default) and whether every
 * minor collection is checked (young.c). */
static uint64_t vt_young_bytes;
static bool vt_young_verify = true;
static uint64_t vt_clock(void) { return vt_now; }

static void *vt_map(void)
{
	munmap(VT_ADDR, VT_REGION);
	void *p = mmap(VT_ADDR, VT_REGION, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	return p == VT_ADDR ? p : NULL;
}

/* Format a fresh region, load prog, start Main.main. 0 or -1 (why in err). */
static int vt_boot(struct vm_ctx *ctx, const char *prog, bool fake_clock, uint32_t *id, char *err, size_t en)
{
	uint8_t *cls;
	size_t n;
	if (pasm_assemble("t.pasm", prog, strlen(prog), &cls, &n, err, en))
		return -1;
	void *base = vt_map();
	memset(ctx, 0, sizeof *ctx);
	vt_out.n = 0;
	vt_out.buf[0] = 0;
	vm_set_output(ctx, vt_cap_out, &vt_out);
	ctx->clock = fake_clock ? vt_clock : NULL;
	ctx->young_bytes = vt_young_bytes;
	ctx->young_verify = vt_young_verify;
	int rc = base ? vm_format(ctx, base, VT_REGION) : -1;
	if (!rc)
		rc = vm_load(ctx, cls, n);
	if (!rc)
		rc = vm_thread_start(ctx, "Main", "main", id);
	free(cls);
	if (rc)
		snprintf(err, en, "%s", base ? ctx->err : "mmap failed");
	return rc ? -1 : 0;
}

/* Throw away the mapping and every C structure, then rebuild from the
 * region's bytes, as a reboot from a snapshot would. */
static __attribute__((unused)) int vt_restore(struct vm_ctx *ctx)
{
	uint8_t *saved = malloc(VT_REGION);
	memcpy(saved, VT_ADDR, VT_REGION);
	bool fake = ctx->clock != NULL;
	vm_detach(ctx);                   /* the process's sockets die with it */
	munmap(VT_ADDR, VT_REGION);
	memset(ctx, 0xa5, sizeof *ctx);
	void *base = vt_map();
	if (!base) {
		free(saved);
		return -1;
	}
	memset(base, 0x5a, VT_REGION);
	memcpy(base, saved, VT_REGION);
	free(saved);
	/* The nursery is volatile: what it held does not come back. */
	const struct vm_root *r = base;
	if (r->young_lo < r->young_hi && r->young_hi <= (uint64_t)(uintptr_t)base + VT_REGION)
		memset((void *)(uintptr_t)r->young_lo, 0x5a, r->young_hi - r->young_lo);
	memset(ctx, 0, sizeof *ctx);
	vm_set_output(ctx, vt_cap_out, &vt_out);
	ctx->clock = fake ? vt_clock : NULL;
	ctx->young_verify = vt_young_verify;
	return vm_attach(ctx, base, VT_REGION);
}

static __attribute__((unused)) uint64_t vt_real_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Run until every thread has ended: on the fake clock, jump to the next
 * wake-up; on the real one, sleep until it (at most 20 ms at a time).
 * Gives up after `rounds` scheduler calls. 0, or -1 on a deadlock. */
static __attribute__((unused)) int vt_drive(struct vm_ctx *ctx, uint64_t slice, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		vm_run_all(ctx, slice);
		if (vm_all_done(ctx))
			return 0;
		uint64_t next = vm_next_wakeup_ns(ctx);
		if (ctx->clock) {
			if (next == UINT64_MAX)
				return -1;
			if (next > vt_now)
				vt_now = next;
		} else {
			uint64_t now = vt_real_now(), wait = 20000000;
			if (next != UINT64_MAX && next > now && next - now < wait)
				wait = next - now;
			if (next > now) {
				struct timespec ts = { 0, (long)wait };
				nanosleep(&ts, NULL);
			}
		}
	}
	return -1;
}

#endif
