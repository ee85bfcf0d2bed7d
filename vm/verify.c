/* verify.c — the bytecode verifier: decodes a method's code once, checks
 * every operand (local and constant indexes, constant kinds, branch targets
 * on instruction starts, exception ranges), then runs a data-flow pass that
 * gives every instruction one stack depth, never below zero nor above
 * max_stack. Verified code cannot make the interpreter read outside its
 * frame; run-time type errors are the interpreter's to raise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "classfile.h"

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Which constant tag an opcode's K operand must name (0: any of LDC's). */
static int want_tag(int op)
{
	switch (op) {
	case VM_OP_NEW: case VM_OP_INSTANCEOF: case VM_OP_CHECKCAST: return VM_CT_CLASS;
	case VM_OP_GETFIELD: case VM_OP_PUTFIELD:
	case VM_OP_GETSTATIC: case VM_OP_PUTSTATIC: return VM_CT_FIELD;
	case VM_OP_INVOKESTATIC: case VM_OP_INVOKEVIRTUAL:
	case VM_OP_INVOKESPECIAL: case VM_OP_INVOKEINTERFACE: return VM_CT_METHOD;
	case VM_OP_INVOKENATIVE: return VM_CT_NATIVE;
	default: return 0;
	}
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); rc = -ERR_CORRUPT; goto out; } while (0)

int vm_verify_code(const struct vm_cf *cf, const struct vm_cf_method *m,
		   uint16_t *max_stack, char *err, size_t errlen)
{
	const uint8_t *code = m->code;
	uint32_t n = m->code_len;
	int rc = 0;
	/* depth[pc]: -2 not an instruction start, -1 start not yet reached. */
	int32_t *depth = NULL;
	uint32_t *work = NULL;
	if (n == 0) {
		snprintf(err, errlen, "empty code");
		return -ERR_CORRUPT;
	}
	depth = malloc(sizeof *depth * n);
	work = malloc(sizeof *work * n);
	if (!depth || !work) {
		free(depth);
		free(work);
		snprintf(err, errlen, "out of memory");
		return -ERR_NOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		depth[i] = -2;
	/* Pass 1: decode, check operands that need no flow information. */
	for (uint32_t pc = 0; pc < n;) {
		int op = code[pc];
		if (op >= VM_OP_COUNT)
			FAIL("pc %u: unknown opcode %u", pc, op);
		const struct vm_opinfo *oi = &vm_opinfo[op];
		uint32_t len = 1 + vm_opd_size(oi->a) + vm_opd_size(oi->b);
		if (len > n - pc)
			FAIL("pc %u: %s runs past the end of the code", pc, oi->mnemonic);
		depth[pc] = -1;
		const uint8_t *o = code + pc + 1;
		for (int j = 0; j < 2; j++) {
			unsigned kind = j ? oi->b : oi->a;
			if (kind == VM_OPD_L && rd16(o) >= m->nlocals)
				FAIL("pc %u: local %u out of range (nlocals %u)", pc, rd16(o), m->nlocals);
			if (kind == VM_OPD_K) {
				uint16_t k = rd16(o);
				int t = want_tag(op);
				if (k >= cf->nconst)
					FAIL("pc %u: constant %u out of range", pc, k);
				int kt = cf->k[k].tag;
				if (t ? kt != t : (kt != VM_CT_STRING && kt != VM_CT_LONG && kt != VM_CT_DOUBLE))
					FAIL("pc %u: %s: constant %u has the wrong kind", pc, oi->mnemonic, k);
			}
			o += vm_opd_size(kind);
		}
		pc += len;
	}
	/* Branch targets and handlers must land on instruction starts. */
	for (uint32_t pc = 0; pc < n; pc += 1 + vm_opd_size(vm_opinfo[code[pc]].a) + vm_opd_size(vm_opinfo[code[pc]].b)) {
		if (vm_opinfo[code[pc]].a == VM_OPD_B) {
			int64_t t = (int64_t)pc + (int32_t)rd32(code + pc + 1);
			if (t < 0 || t >= n || depth[t] == -2)
				FAIL("pc %u: branch target %lld is not an instruction", pc, (long long)t);
		}
	}
	for (unsigned i = 0; i < m->nhandlers; i++) {
		const struct vm_handler *h = &m->handlers[i];
		if (h->start >= h->end || h->end > n || depth[h->start] == -2 ||
		    (h->end < n && depth[h->end] == -2) || h->target >= n || depth[h->target] == -2)
			FAIL("handler %u: range or target is not on instructions", i);
		if (h->class_k != VM_ANY_CLASS &&
		    (h->class_k >= cf->nconst || cf->k[h->class_k].tag != VM_CT_CLASS))
			FAIL("handler %u: constant %u is not a class", i, h->class_k);
	}
	/* Pass 2: data flow over stack depths. */
	uint32_t nwork = 0, maxd = 0;
	uint32_t limit = *max_stack == 0xffff ? 0xfffe : *max_stack;
	depth[0] = 0;
	work[nwork++] = 0;
	for (unsigned i = 0; i < m->nhandlers; i++) {
		uint32_t t = m->handlers[i].target;
		if (depth[t] >= 0 && depth[t] != 1)
			FAIL("handler %u: target reached with a non-empty stack", i);
		if (depth[t] < 0) {
			depth[t] = 1;
			work[nwork++] = t;
		}
		if (limit < 1)
			FAIL("handler %u needs a stack of 1, max_stack is 0", i);
		if (maxd < 1)
			maxd = 1;
	}
	while (nwork) {
		uint32_t pc = work[--nwork];
		int op = code[pc];
		const struct vm_opinfo *oi = &vm_opinfo[op];
		int pop = oi->pop, push = oi->push;
		if (pop == VM_STACK_VAR) {
			const struct vm_cf_const *k = &cf->k[rd16(code + pc + 1)];
			pop = k->nargs;
			push = k->nret;
		}
		if (op == VM_OP_VRETURN && m->nret != 1)
			FAIL("pc %u: vreturn in a method that returns nothing", pc);
		if (op == VM_OP_RETURN && m->nret != 0)
			FAIL("pc %u: return without a value in a method that returns one", pc);
		int32_t d = depth[pc];
		if (d < pop)
			FAIL("pc %u: %s needs %d values, the stack has %d", pc, oi->mnemonic, pop, d);
		d = d - pop + push;
		if ((uint32_t)d > limit)
			FAIL("pc %u: stack depth %d exceeds max_stack %u", pc, d, limit);
		if ((uint32_t)d > maxd)
			maxd = (uint32_t)d;
		uint32_t len = 1 + vm_opd_size(oi->a) + vm_opd_size(oi->b);
		uint32_t succ[2];
		int ns = 0;
		if (oi->flow == VM_FLOW_SEQ || oi->flow == VM_FLOW_BRANCH) {
			if (pc + len >= n)
				FAIL("pc %u: execution falls off the end of the code", pc);
			succ[ns++] = pc + len;
		}
		if (oi->flow == VM_FLOW_BRANCH || oi->flow == VM_FLOW_JUMP)
			succ[ns++] = (uint32_t)((int64_t)pc + (int32_t)rd32(code + pc + 1));
		for (int s = 0; s < ns; s++) {
			uint32_t t = succ[s];
			if (depth[t] == -1) {
				depth[t] = d;
				work[nwork++] = t;
			} else if (depth[t] != d) {
				FAIL("pc %u: stack depth %d here but %d on another path", t, d, depth[t]);
			}
		}
	}
	if (*max_stack == 0xffff)
		*max_stack = (uint16_t)maxd;
out:
	free(depth);
	free(work);
	return rc;
}
