/* vm.c — a region's life: format (root header, heap, built-in classes),
 * attach after a restore (header checks only: nothing else to rebuild),
 * starting threads by name, errors and console output. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plat.h"
#include "internal.h"


int vm_fail(struct vm_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
	va_end(ap);
	return rc;
}

void vm_write(struct vm_ctx *ctx, const char *s, size_t n)
{
	if (ctx->out)
		ctx->out(ctx->out_arg, s, n);
	else if (plat_active)
		plat_console_write(s, n);
}

void vm_set_output(struct vm_ctx *ctx, vm_out_fn fn, void *arg)
{
	ctx->out = fn;
	ctx->out_arg = arg;
}

void vm_set_net_output(struct vm_ctx *ctx, vm_net_out_fn fn, void *arg)
{
	ctx->net_out = fn;
	ctx->net_out_arg = arg;
}

void vm_set_discard(struct vm_ctx *ctx, vm_discard_fn fn, void *arg,
		    uint64_t min_age_ns)
{
	ctx->discard = fn;
	ctx->discard_arg = arg;
	ctx->discard_age_ns = min_age_ns;
}

static void ctx_reset(struct vm_ctx *ctx, void *base)
{
	/* This boot's sockets close: handles of the region's earlier boots are
	 * stale from here on, and a listener must be able to reopen its port. */
	vm_io_free(ctx);
	/* The host's hooks stay. */
	struct vm_ctx kept = *ctx;
	memset(ctx, 0, sizeof *ctx);
	ctx->out = kept.out;
	ctx->out_arg = kept.out_arg;
	ctx->net_out = kept.net_out;
	ctx->net_out_arg = kept.net_out_arg;
	ctx->discard = kept.discard;
	ctx->discard_arg = kept.discard_arg;
	ctx->discard_age_ns = kept.discard_age_ns;
	ctx->clock = kept.clock;
	ctx->console_poll = kept.console_poll;
	ctx->young_bytes = kept.young_bytes;
	ctx->young_verify = kept.young_verify;
	ctx->root = base;
}

/* The nursery: what ctx asks for, by default 1/16 of the region up to
 * 4 MiB (a minor collection's pause grows with its survivors, not its
 * size), none in a region under 1 MiB; never more than a quarter. */
static uint64_t young_size(const struct vm_ctx *ctx, size_t size)
{
	uint64_t want = ctx->young_bytes;
	if (want == VM_YOUNG_NONE)
		return 0;
	if (want == 0)
		want = size < (1u << 20) ? 0 : size / 16 < (4u << 20) ? size / 16 : (4u << 20);
	return want <= size / 4 ? want : size / 4;
}

int vm_format(struct vm_ctx *ctx, void *base, size_t size)
{
	ctx_reset(ctx, base);
	size_t hdr = (sizeof(struct vm_root) + 63) & ~(size_t)63;
	if (((uintptr_t)base & 7) || size < hdr + 65536)
		return vm_fail(ctx, -ERR_INVAL, "region must be 8-byte aligned and at least %zu bytes",
			       hdr + 65536);
	struct vm_root *r = base;
	memset(r, 0, sizeof *r);
	r->magic = VM_ROOT_MAGIC;
	r->version = VM_ROOT_VERSION;
	r->root_size = sizeof *r;
	r->region_size = size;
	r->next_thread_id = 1;
	r->boot_gen = 1;
	uintptr_t lo = (uintptr_t)base + hdr;
	vm_heap_init(r, lo, ((uintptr_t)base + size) & ~(uintptr_t)7, young_size(ctx, size));
	return vm_bootstrap(ctx);
}

int vm_attach(struct vm_ctx *ctx, void *base, size_t size)
{
	ctx_reset(ctx, base);
	struct vm_root *r = base;
	if (size < sizeof *r || r->magic != VM_ROOT_MAGIC)
		return vm_fail(ctx, -ERR_CORRUPT, "no VM root header in the region");
	if (r->version != VM_ROOT_VERSION || r->root_size != sizeof *r)
		return vm_fail(ctx, -ERR_VERSION, "VM root version %u (size %u), this VM has %u (%zu)",
			       r->version, r->root_size, VM_ROOT_VERSION, sizeof *r);
	if (r->region_size != size || !vm_heap_fits(r, (uintptr_t)base, size))
		return vm_fail(ctx, -ERR_CORRUPT, "VM root header does not match the region");
	/* These describe C calls in progress (a load, an allocation holding
	 * temporaries); none survives a restore, so a snapshot taken in the
	 * middle of one must not leave the collector disabled or pinned. */
	r->gc_inhibit = 0;
	memset(r->tmp, 0, sizeof r->tmp);
	/* Native handles of earlier boots are stale from now on (io.c). */
	r->boot_gen++;
	return 0;
}

static struct vm_thread *find_thread(struct vm_root *r, uint32_t id)
{
	for (struct vm_thread *t = r->threads; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

struct vm_thread *vm_thread_find(struct vm_root *r, uint32_t id)
{
	return find_thread(r, id);
}

int vm_thread_start(struct vm_ctx *ctx, const char *cname, const char *mname, uint32_t *id)
{
	struct vm_root *r = ctx->root;
	struct vm_class *c = vm_find_class(r, cname, strlen(cname));
	struct vm_method *m = NULL;
	for (uint32_t i = 0; c && i < c->methods->h.nrefs; i++) {
		struct vm_method *k = vm_ptr(c->methods->data[i]);
		if (vm_str_eq(k->name, mname, strlen(mname)))
			m = k;
	}
	if (!m || !(m->flags & VM_MF_STATIC) || m->nargs != 0 || (m->flags & VM_MF_ABSTRACT))
		return vm_fail(ctx, -ERR_NOENT, "no static method %s.%s taking no arguments", cname, mname);
	int rc;
	struct vm_thread *t = vm_thread_new(ctx, m, NULL, &rc);
	if (!t)
		return rc;
	if (id)
		*id = t->id;
	return 0;
}

int vm_thread_result(struct vm_ctx *ctx, uint32_t id, vm_value *out)
{
	struct vm_thread *t = find_thread(ctx->root, id);
	if (!t || t->state != VM_TS_DONE)
		return vm_fail(ctx, -ERR_NOENT, "thread %u has not finished", id);
	*out = t->result;
	return 0;
}
