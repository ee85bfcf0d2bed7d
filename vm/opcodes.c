/* opcodes.c — the opcode information table (mnemonic, operands, stack
 * effect, flow, meaning), expanded from opcodes.def for the verifier, the
 * disassembler, the assembler and the documentation generator. */
#include <string.h>

#include "classfile.h"

#define VAR VM_STACK_VAR
const struct vm_opinfo vm_opinfo[VM_OP_COUNT] = {
#define X(name, mn, a, b, pop, push, flow, doc) \
	[VM_OP_##name] = { mn, VM_OPD_##a, VM_OPD_##b, pop, push, VM_FLOW_##flow, doc },
#include "opcodes.def"
#undef X
};
#undef VAR

unsigned vm_opd_size(unsigned kind)
{
	switch (kind) {
	case VM_OPD_L: case VM_OPD_K: return 2;
	case VM_OPD_I: case VM_OPD_B: return 4;
	default: return 0;
	}
}

int vm_op_lookup(const char *mnemonic)
{
	for (int i = 0; i < VM_OP_COUNT; i++)
		if (strcmp(vm_opinfo[i].mnemonic, mnemonic) == 0)
			return i;
	return -1;
}
