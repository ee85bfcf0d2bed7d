/* vm_bytecode_doc_test.c — docs/bytecode.md is generated from vm/opcodes.def
 * by this program: `build/tests/unit/vm_bytecode_doc_test --write` rewrites
 * it; run as a test, it checks the committed file equals its output, so
 * the document cannot drift from the instruction set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../vm/classfile.h"
#include "../../vm/internal.h"

#define DOC "docs/bytecode.md"

static const char *intro =
"# Phantom bytecode\n"
"\n"
"Generated from `vm/opcodes.def` by `tests/unit/vm_bytecode_doc_test.c`\n"
"(`build/tests/unit/vm_bytecode_doc_test --write`); do not edit by hand.\n"
"\n"
"## Values\n"
"\n"
"Every slot (local, operand, field, array element) holds one 64-bit value:\n"
"low bit 1 is a 63-bit signed immediate integer (class `Int`), low three bits\n"
"0 is a reference to an object header (0 is null). Java `int` values are\n"
"immediates and the `i*` instructions wrap them to 32 bits; `long` values are\n"
"immediates when they fit 63 bits and boxed `Long` objects otherwise, so long\n"
"arithmetic allocates only beyond 63 bits. `double` values are boxed `Double`\n"
"objects; Java `float` is a double rounded with `f2f`. Category-2 values take\n"
"one slot, so a Java translator maps `dup2`/`pop2` on longs to `dup`/`pop`.\n"
"\n"
"## Instruction format\n"
"\n"
"```\n"
"+--------+-----------+-----------+\n"
"| opcode | operand a | operand b |   little-endian, unaligned\n"
"+--------+-----------+-----------+\n"
"  1 byte   0/2/4       0/2/4\n"
"```\n"
"\n"
"| kind | size | meaning |\n"
"|---|---|---|\n"
"| L | 2 | local index, below the method's nlocals |\n"
"| K | 2 | constant-pool index (the kind each opcode needs is checked) |\n"
"| I | 4 | signed 32-bit immediate |\n"
"| B | 4 | signed branch offset from the branch's own opcode |\n"
"\n"
"Calls pass arguments left to right (receiver first); the callee's locals\n"
"start with them. A frame is `locals, caller method, caller pc, caller fp,\n"
"operand stack` inside the thread's stack object. The interpreter polls the\n"
"safepoint flag at every taken backward branch and every call, before the\n"
"instruction has any effect.\n"
"\n"
"## Verification\n"
"\n"
"The loader refuses a method unless every opcode is known, operands stay\n"
"inside the code, local and constant indexes are in range and constants are\n"
"of the kind the opcode needs, branch targets and exception ranges fall on\n"
"instruction starts, every instruction is reached with one stack depth that\n"
"never drops below zero nor exceeds max_stack, execution cannot fall off the\n"
"end, and `return`/`vreturn` match the method's result count. Linking then\n"
"checks each constant's use (static calls to static methods, field opcodes\n"
"to the right kind of field, handlers catch Throwables). Types of values are\n"
"checked when instructions run: a wrong type raises ClassCastException,\n"
"never undefined behaviour.\n"
"\n"
"## Class file (version 1)\n"
"\n"
"```\n"
"0   4  magic \"PHCL\"\n"
"4   2  version (1)       6  2  flags (0)\n"
"8   4  body length       12 4  CRC-32 (IEEE) of the body\n"
"16     body: u16 nconst, constants, u16 nclass, classes\n"
"const  u8 tag: 1 STRING u32 len bytes | 2 LONG i64 | 3 DOUBLE f64 |\n"
"       4 CLASS u16 name | 5 FIELD u16 class u16 name |\n"
"       6 METHOD u16 class u16 name u8 nargs u8 nret | 7 NATIVE u16 name u8 nargs u8 nret\n"
"class  u16 name, u16 super (0xffff = Object), u16 flags (1 interface, 2 abstract),\n"
"       u16 n + n x u16 interface, u16 n + n x (u16 name, u16 flags: 1 static),\n"
"       u16 n + n x method\n"
"method u16 name, u16 flags (1 static, 2 abstract), u8 nargs, u8 nret,\n"
"       u16 nlocals, u16 max_stack, u32 code_len, code,\n"
"       u16 n + n x (u32 start, u32 end, u32 handler, u16 class or 0xffff = any)\n"
"```\n"
"\n"
"## Assembly syntax (phantom-asm)\n"
"\n"
"```\n"
"; comment\n"
".class [interface|abstract] Name [extends Super] [implements I, J]\n"
".field a b            ; instance fields     .static s   ; static fields\n"
".method [static] [abstract] name NARGS NRET   ; NARGS counts the receiver\n"
".locals N             ; default NARGS         .stack N   ; default: computed\n"
"label:  mnemonic operands\n"
".catch Class|* from to handler               ; labels; * catches all (finally)\n"
".end\n"
"```\n"
"\n"
"Operands: locals and immediates as numbers, branches as labels, `ldc` takes\n"
"`\"string\"`, `123L` or a double, class operands a class name, field operands\n"
"`Class.field`, calls `Class.method` (with `NARGS/NRET` when the method is not\n"
"in the same file), `invokenative` a native name such as `console.write`.\n"
"\n"
"## Instructions\n"
"\n"
"| opcode | mnemonic | operands | pops | pushes | meaning |\n"
"|---|---|---|---|---|---|\n";

static const char *kind_name(unsigned k)
{
	static const char *names[] = { "", "L", "K", "I", "B" };
	return names[k];
}

static const char *natives_intro =
"\n"
"## Internal functions (invokenative)\n"
"\n"
"Generated from the table in `vm/native.c`. Arguments are pushed left to right\n"
"before `invokenative NAME`; a function pushes its result (if it has one).\n"
"Wrong argument types raise `ClassCastException` (null: `NullPointerException`),\n"
"bad values `IllegalArgumentException`, failed I/O a catchable `IOException`.\n"
"\n"
"Restartability: a native runs with its arguments still on the stack and the pc\n"
"still on the call. One that cannot finish now (sleep, join, wait, a contended\n"
"monitor, input not yet there, no connection yet) leaves the thread SLEEPING or\n"
"BLOCKED on that instruction and runs again when the thread is woken, so a\n"
"snapshot always records it as not yet done, or done with its result pushed.\n"
"After a reboot a sleeper wakes at its wall-clock deadline, a connection of the\n"
"earlier boot raises `IOException`, and a listener reopens its port. Console\n"
"input is fed by the host (`vm_console_input`) or polled from the platform\n"
"console (`ctx->console_poll`); unread input does not survive a restore.\n"
"\n"
"| name | arguments | results | meaning |\n"
"|---|---|---|---|\n";

static size_t gen(char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "%s", intro);
	for (int op = 0; op < VM_OP_COUNT && n < cap; op++) {
		const struct vm_opinfo *oi = &vm_opinfo[op];
		char opd[8], pop[8], push[8];
		snprintf(opd, sizeof opd, "%s%s%s", kind_name(oi->a), oi->b ? " " : "", kind_name(oi->b));
		snprintf(pop, sizeof pop, oi->pop == VM_STACK_VAR ? "nargs" : "%d", oi->pop);
		snprintf(push, sizeof push, oi->push == VM_STACK_VAR ? "nret" : "%d", oi->push);
		n += (size_t)snprintf(buf + n, cap - n, "| %d | `%s` | %s | %s | %s | %s |\n",
				      op, oi->mnemonic, opd, pop, push, oi->doc);
	}
	if (n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "%s", natives_intro);
	const struct vm_native *nat;
	for (unsigned i = 0; (nat = vm_native_get(i)) != NULL && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "| `%s` | %s | %s | %s |\n", nat->name,
				      nat->args[0] ? nat->args : "-", nat->nret ? "1" : "0", nat->doc);
	return n;
}

static char doc[1 << 16];

TEST(doc_matches_opcodes_def)
{
	size_t n = gen(doc, sizeof doc);
	CHECK(n < sizeof doc - 1);
	FILE *f = fopen(DOC, "rb");
	CHECKF(f, "cannot read %s (regenerate with --write)", DOC);
	static char have[1 << 16];
	size_t h = fread(have, 1, sizeof have, f);
	fclose(f);
	CHECKF(h == n && memcmp(have, doc, n) == 0,
	       "%s differs from vm/opcodes.def: run build/tests/unit/vm_bytecode_doc_test --write", DOC);
}

TEST(every_opcode_documented_once)
{
	for (int i = 0; i < VM_OP_COUNT; i++) {
		CHECKF(vm_opinfo[i].mnemonic && vm_opinfo[i].doc && vm_opinfo[i].doc[0], "opcode %d", i);
		CHECKF(vm_op_lookup(vm_opinfo[i].mnemonic) == i, "mnemonic %s not unique", vm_opinfo[i].mnemonic);
	}
	CHECK(VM_OP_COUNT < 256);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--write")) {
		size_t n = gen(doc, sizeof doc);
		FILE *f = fopen(DOC, "wb");
		if (!f || fwrite(doc, 1, n, f) != n || fclose(f)) {
			perror(DOC);
			return 1;
		}
		return 0;
	}
	check_begin("vm_bytecode_doc_test");
	RUN(doc_matches_opcodes_def);
	RUN(every_opcode_documented_once);
	return check_done();
}
