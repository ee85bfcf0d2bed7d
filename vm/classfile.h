/* classfile.h — the Phantom class-file format (version 1), its parsed form,
 * and the parser/verifier entry points shared by the loader, the
 * disassembler and phantom-asm. The format is documented in docs/bytecode.md.
 *
 *   offset  size  field
 *   0       4     magic "PHCL"
 *   4       2     version (VM_CF_VERSION); any other is refused
 *   6       2     flags (0)
 *   8       4     body length in bytes
 *   12      4     CRC-32 (IEEE) of the body
 *   16      ...   body: constants, then classes (all integers little-endian)
 *
 *   body    u16 nconst, nconst x constant, u16 nclass, nclass x class
 *   const   u8 tag, then  STRING u32 len, bytes | LONG i64 | DOUBLE f64 bits
 *           | CLASS u16 name | FIELD u16 class, u16 name
 *           | METHOD u16 class, u16 name, u8 nargs, u8 nret
 *           | NATIVE u16 name, u8 nargs, u8 nret
 *   class   u16 name, u16 super (0xffff: Object), u16 flags,
 *           u16 nifaces x u16 CLASS, u16 nfields x (u16 name, u16 flags),
 *           u16 nmethods x method
 *   method  u16 name, u16 flags, u8 nargs, u8 nret, u16 nlocals, u16 max_stack,
 *           u32 code_len, code, u16 nhandlers x (u32 start, end, target, u16 class)
 *
 * When the layout or an opcode's number changes, bump VM_CF_VERSION. */
#ifndef PHANTOM_VM_CLASSFILE_H
#define PHANTOM_VM_CLASSFILE_H

#include <stddef.h>
#include <stdint.h>

#include "object.h"

#define VM_CF_MAGIC     "PHCL"
#define VM_CF_VERSION   1u
#define VM_CF_HDR       16u
#define VM_CF_NONE      0xffffu        /* "no constant" in a u16 slot       */
#define VM_CF_MAX_CONST 0xfffeu
#define VM_FIELD_STATIC 1u

enum vm_cf_tag {
	VM_CT_STRING = 1, VM_CT_LONG, VM_CT_DOUBLE, VM_CT_CLASS, VM_CT_FIELD,
	VM_CT_METHOD, VM_CT_NATIVE,
};

enum vm_opcode {
#define X(name, mn, a, b, pop, push, flow, doc) VM_OP_##name,
#include "opcodes.def"
#undef X
	VM_OP_COUNT
};

enum vm_operand { VM_OPD_N, VM_OPD_L, VM_OPD_K, VM_OPD_I, VM_OPD_B };
enum vm_flow { VM_FLOW_SEQ, VM_FLOW_BRANCH, VM_FLOW_JUMP, VM_FLOW_END };
#define VM_STACK_VAR (-1)

struct vm_opinfo {
	const char *mnemonic;
	uint8_t a, b;                  /* enum vm_operand                    */
	int8_t pop, push;              /* VM_STACK_VAR: from the constant     */
	uint8_t flow;                  /* enum vm_flow                       */
	const char *doc;
};
extern const struct vm_opinfo vm_opinfo[VM_OP_COUNT];
/* Operand size in bytes for a kind. */
unsigned vm_opd_size(unsigned kind);
/* Opcode for a mnemonic, or -1. */
int vm_op_lookup(const char *mnemonic);

struct vm_cf_const {
	uint8_t tag;
	uint8_t nargs, nret;
	uint16_t a, b;                 /* indexes (class, name)              */
	uint32_t len;                  /* STRING                             */
	const uint8_t *str;            /* STRING: points into the file       */
	int64_t l;                     /* LONG, DOUBLE bits                  */
};

struct vm_cf_method {
	uint16_t name, flags;
	uint8_t nargs, nret;
	uint16_t nlocals, max_stack;
	uint32_t code_len;
	const uint8_t *code;           /* points into the file               */
	uint16_t nhandlers;
	struct vm_handler *handlers;
};

struct vm_cf_class {
	uint16_t name, super, flags;
	uint16_t nifaces, nfields, nmethods;
	uint16_t *ifaces;
	uint16_t *fields, *field_flags;
	struct vm_cf_method *methods;
};

struct vm_cf {
	uint16_t nconst, nclasses;
	struct vm_cf_const *k;
	struct vm_cf_class *classes;
};

/* Parse and verify a class file (checksum, structure, every method's code).
 * The result points into `file`, which must outlive it. 0 or -ERR_x with a
 * message in err. vm_cf_free releases what parse allocated. */
int vm_cf_parse(const void *file, size_t len, struct vm_cf *cf,
		char *err, size_t errlen);
void vm_cf_free(struct vm_cf *cf);

/* Verify one method's code against the constants: operands in range and of
 * the right kind, branch targets on instruction starts, a consistent stack
 * depth that never underflows. If *max_stack is 0xffff it is computed and
 * stored, otherwise exceeding it is an error. 0 or -ERR_CORRUPT. */
int vm_verify_code(const struct vm_cf *cf, const struct vm_cf_method *m,
		   uint16_t *max_stack, char *err, size_t errlen);

uint32_t vm_crc32(const void *p, size_t n);

#endif
