/* native.c — internal functions reached by INVOKENATIVE: console, time and
 * string helpers for now. Each is restartable: it runs with its arguments
 * still on the caller's stack and the pc still on the call, so a native that
 * could not finish may simply be re-run after a restore. Threads, the root
 * directory and sockets come next (see the report in docs). */
#include <string.h>

#include "plat.h"
#include "internal.h"

static struct vm_string *as_string(vm_value v)
{
	if (!vm_is_ref(v))
		return NULL;
	struct vm_obj *o = vm_ptr(v);
	return o->cls->kind == VM_K_STRING ? (struct vm_string *)o : NULL;
}

/* console.write(x): the string form of x, no newline. */
static int n_console_write(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ret;
	char buf[96];
	struct vm_string *s = as_string(a[0]);
	if (s)
		vm_write(ctx, s->bytes, s->len);
	else
		vm_write(ctx, buf, vm_format_value(a[0], buf, sizeof buf));
	return 0;
}

static int n_time_nanos(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)a;
	/* A VM with no platform installed (unit tests, the fuzzer) has no clock. */
	*ret = vm_make_long(ctx, plat_active ? (int64_t)plat_monotonic_ns() : 0);
	return *ret ? 0 : VM_BI_OOM + 1;
}

static int n_string_length(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	struct vm_string *s = as_string(a[0]);
	if (!s)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = vm_int((int32_t)s->len);
	return 0;
}

static int n_string_char_at(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	struct vm_string *s = as_string(a[0]);
	if (!s)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	if (!vm_is_fix(a[1]) || vm_fix_val(a[1]) < 0 || vm_fix_val(a[1]) >= s->len)
		return VM_BI_AIOOBE + 1;
	*ret = vm_int((uint8_t)s->bytes[vm_fix_val(a[1])]);
	return 0;
}

static int n_string_equals(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	struct vm_string *x = as_string(a[0]), *y = as_string(a[1]);
	if (!x)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = vm_int(y && x->len == y->len && memcmp(x->bytes, y->bytes, x->len) == 0);
	return 0;
}

static int n_string_hash(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	struct vm_string *s = as_string(a[0]);
	if (!s)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = vm_int((int32_t)vm_str_hash(s));
	return 0;
}

static const struct vm_native natives[] = {
	{ "console.write", 1, 0, n_console_write },
	{ "time.nanos", 0, 1, n_time_nanos },
	{ "string.length", 1, 1, n_string_length },
	{ "string.charAt", 2, 1, n_string_char_at },
	{ "string.equals", 2, 1, n_string_equals },
	{ "string.hash", 1, 1, n_string_hash },
};
#define NNATIVES (sizeof natives / sizeof natives[0])

int vm_native_lookup(const char *name, size_t len)
{
	for (unsigned i = 0; i < NNATIVES; i++)
		if (strlen(natives[i].name) == len && memcmp(natives[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

const struct vm_native *vm_native_get(unsigned id)
{
	return id < NNATIVES ? &natives[id] : NULL;
}
