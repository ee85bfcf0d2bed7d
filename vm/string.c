/* string.c — the string form of values: decimal ints and longs, doubles
 * (integral ones as "N.0", others with up to 9 fraction digits, NaN,
 * Infinity), strings as themselves, other objects as "Class@address". */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static size_t fmt_int(int64_t n, char *buf, size_t cap)
{
	int k = snprintf(buf, cap, "%lld", (long long)n);
	return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
}

/* The kernel's libc prints no floating point, so doubles are formatted
 * here with integer arithmetic only. */
static size_t fmt_double(double d, char *buf, size_t cap)
{
	if (d != d)
		return (size_t)snprintf(buf, cap, "NaN");
	const char *sign = d < 0 || (d == 0 && 1 / d < 0) ? "-" : "";
	if (d < 0)
		d = -d;
	if (d > 1.7976931348623157e308)
		return (size_t)snprintf(buf, cap, "%sInfinity", sign);
	int e = 0;
	while (d >= 1e15) {           /* large: scientific, 9 fraction digits */
		d /= 10;
		e++;
	}
	if (e) {
		while (d >= 10) {
			d /= 10;
			e++;
		}
		uint64_t m = (uint64_t)(d * 1e9 + 0.5);
		int k = snprintf(buf, cap, "%s%llu.%09lluE%d", sign,
				 (unsigned long long)(m / 1000000000u),
				 (unsigned long long)(m % 1000000000u), e);
		return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
	}
	uint64_t ip = (uint64_t)d;
	double frac = d - (double)ip;
	uint64_t f = (uint64_t)(frac * 1e9 + 0.5);
	if (f >= 1000000000u) {
		ip++;
		f -= 1000000000u;
	}
	char fr[24];
	snprintf(fr, sizeof fr, "%09llu", (unsigned long long)f);
	size_t n = 9;
	while (n > 1 && fr[n - 1] == '0')
		n--;
	fr[n] = 0;
	int k = snprintf(buf, cap, "%s%llu.%s", sign, (unsigned long long)ip, fr);
	return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
}

size_t vm_format_value(vm_value v, char *buf, size_t cap)
{
	if (cap == 0)
		return 0;
	if (vm_is_fix(v))
		return fmt_int(vm_fix_val(v), buf, cap);
	if (v == VM_NULL)
		return (size_t)snprintf(buf, cap, "null") < cap ? 4 : 0;
	struct vm_obj *o = vm_ptr(v);
	switch (o->cls->kind) {
	case VM_K_LONG:
		return fmt_int(((struct vm_box *)o)->u.l, buf, cap);
	case VM_K_DOUBLE:
		return fmt_double(((struct vm_box *)o)->u.d, buf, cap);
	case VM_K_STRING: {
		struct vm_string *s = (struct vm_string *)o;
		size_t n = s->len < cap - 1 ? s->len : cap - 1;
		memcpy(buf, s->bytes, n);
		buf[n] = 0;
		return n;
	}
	default: {
		int k = snprintf(buf, cap, "%s@%llx", o->cls->name->bytes,
				 (unsigned long long)(uintptr_t)o);
		return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
	}
	}
}

struct vm_string *vm_to_string(struct vm_ctx *ctx, vm_value v)
{
	if (vm_is_ref(v) && ((struct vm_obj *)vm_ptr(v))->cls->kind == VM_K_STRING)
		return vm_ptr(v);
	char buf[96];
	size_t n = vm_format_value(v, buf, sizeof buf);
	return vm_new_string(ctx, buf, n);
}
