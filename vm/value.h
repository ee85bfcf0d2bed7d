/* value.h — the 64-bit value word every slot holds (locals, operand stack,
 * fields, array elements, constant pool). Owns the tagging scheme:
 *
 *   63                                   3 2 1 0
 *   +-------------------------------------+-+-+-+
 *   |  63-bit signed integer              |     1|   small int (class Int)
 *   +-------------------------------------+-+-+-+
 *   |  address of an object header        |0 0 0|   reference (0 = null)
 *   +-------------------------------------+-+-+-+
 *
 * Int32 and int64 values that fit 63 bits are immediates, so their arithmetic
 * allocates nothing. A long outside 63 bits and every double are boxed
 * (classes Long and Double); the interpreter's long ops take the immediate
 * fast path and fall back to boxes. */
#ifndef PHANTOM_VM_VALUE_H
#define PHANTOM_VM_VALUE_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t vm_value;

#define VM_NULL ((vm_value)0)
#define VM_FIX_MIN (-(INT64_C(1) << 62))
#define VM_FIX_MAX ((INT64_C(1) << 62) - 1)

static inline bool vm_is_fix(vm_value v) { return (v & 1u) != 0; }
static inline bool vm_is_ref(vm_value v) { return (v & 7u) == 0 && v != 0; }
static inline int64_t vm_fix_val(vm_value v) { return (int64_t)v >> 1; }
/* Only for n in [VM_FIX_MIN, VM_FIX_MAX]. */
static inline vm_value vm_fix(int64_t n) { return ((uint64_t)n << 1) | 1u; }
static inline bool vm_fits_fix(int64_t n) { return n >= VM_FIX_MIN && n <= VM_FIX_MAX; }
static inline vm_value vm_int(int32_t n) { return vm_fix(n); }

#endif
