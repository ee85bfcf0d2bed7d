/* vm_loader_test.c — the class-file loader and verifier refuse bad input
 * with a clear error and never crash: checksum, version, truncation at
 * every length, random mutations (checksum fixed up so the parser and the
 * verifier see them), hand-made verifier violations, and link errors. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../cluster-tools/asm/asm.h"
#include "../../vm/classfile.h"
#include "../../vm/internal.h"
#include "../../vm/vm.h"

#define REGION (8u << 20)

static void *region;
static struct vm_ctx ctx;

static void fresh(void)
{
	if (!region)
		region = aligned_alloc(4096, REGION);
	memset(&ctx, 0, sizeof ctx);
	vm_set_output(&ctx, NULL, NULL);
	if (vm_format(&ctx, region, REGION))
		abort();
}

static uint8_t *assemble(const char *text, size_t *n)
{
	uint8_t *out = NULL;
	char err[512];
	if (pasm_assemble("t.pasm", text, strlen(text), &out, n, err, sizeof err)) {
		printf("assembly failed: %s\n", err);
		return NULL;
	}
	return out;
}

static void fix_crc(uint8_t *f, size_t n)
{
	uint32_t crc = vm_crc32(f + VM_CF_HDR, n - VM_CF_HDR);
	memcpy(f + 12, &crc, 4);
}

static const char *prog =
	".class Base\n.field a\n.method get 1 1\n load 0\n getfield Base.a\n vreturn\n.end\n"
	".class Main extends Base\n.static s\n"
	".method static main 0 1\n.locals 2\n new Main\n store 0\n"
	"t0:\n load 0\n iconst 7\n putfield Base.a\n load 0\n invokevirtual Base.get\n"
	" ldc \"x\"\n sconcat\n invokenative string.length\n iconst 2\n if_icmpne t1\n"
	" iconst 42\n vreturn\nt1:\n iconst 0\n vreturn\nh:\n pop\n iconst -1\n vreturn\n"
	".catch * t0 t1 h\n.end\n";

TEST(valid_file_loads_and_runs)
{
	size_t n;
	uint8_t *f = assemble(prog, &n);
	CHECK(f);
	fresh();
	CHECKF(vm_load(&ctx, f, n) == 0, "%s", ctx.err);
	uint32_t id;
	CHECK(vm_thread_start(&ctx, "Main", "main", &id) == 0);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), 42);
	/* The same classes again: refused, and the region is unchanged. */
	CHECK_EQ(vm_load(&ctx, f, n), -ERR_EXIST);
	CHECK(strstr(ctx.err, "already loaded"));
	free(f);
}

TEST(header_checks)
{
	size_t n;
	uint8_t *f = assemble(prog, &n);
	CHECK(f);
	fresh();
	f[VM_CF_HDR + 3] ^= 1;
	CHECK_EQ(vm_load(&ctx, f, n), -ERR_CORRUPT);
	CHECKF(strstr(ctx.err, "checksum"), "%s", ctx.err);
	f[VM_CF_HDR + 3] ^= 1;
	f[4] = 2;
	CHECK_EQ(vm_load(&ctx, f, n), -ERR_VERSION);
	f[4] = 1;
	f[0] = 'X';
	CHECK_EQ(vm_load(&ctx, f, n), -ERR_CORRUPT);
	CHECKF(strstr(ctx.err, "magic"), "%s", ctx.err);
	f[0] = 'P';
	CHECK_EQ(vm_load(&ctx, f, n), 0);
	free(f);
}

TEST(every_truncation_is_refused)
{
	size_t n;
	uint8_t *f = assemble(prog, &n);
	CHECK(f);
	fresh();
	for (size_t len = 0; len < n; len++) {
		uint8_t *g = malloc(len + 1);
		memcpy(g, f, len);
		if (len >= VM_CF_HDR) {
			uint32_t body = (uint32_t)(len - VM_CF_HDR);
			memcpy(g + 8, &body, 4);
			fix_crc(g, len);
		}
		int rc = vm_load(&ctx, g, len);
		free(g);
		CHECKF(rc < 0, "length %zu of %zu accepted", len, n);
	}
	free(f);
}

/* Random byte mutations of the body with the checksum recomputed: every
 * outcome is allowed except a crash; loads that succeed must also run
 * without crashing (bounded by a poll budget). */
TEST(mutations_never_crash)
{
	size_t n;
	uint8_t *f = assemble(prog, &n);
	CHECK(f);
	uint8_t *g = malloc(n);
	srand(12345);
	int accepted = 0, refused = 0;
	for (int iter = 0; iter < 20000; iter++) {
		memcpy(g, f, n);
		int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++)
			g[VM_CF_HDR + (size_t)rand() % (n - VM_CF_HDR)] = (uint8_t)rand();
		fix_crc(g, n);
		fresh();
		if (vm_load(&ctx, g, n) == 0) {
			accepted++;
			uint32_t id;
			if (vm_thread_start(&ctx, "Main", "main", &id) == 0)
				vm_run(&ctx, id, 10000);
		} else {
			refused++;
			CHECK(ctx.err[0]);
		}
	}
	free(g);
	free(f);
	CHECKF(refused > 5000, "only %d of 20000 mutations refused", refused);
	(void)accepted;
}

/* Patch one method's code bytes in an assembled file. */
static int load_patched(const char *text, const char *find, size_t flen,
			const uint8_t *repl, char *err, size_t errlen)
{
	size_t n;
	uint8_t *f = assemble(text, &n);
	if (!f)
		return 1;
	uint8_t *p = memmem(f + VM_CF_HDR, n - VM_CF_HDR, find, flen);
	if (!p) {
		free(f);
		snprintf(err, errlen, "pattern not found");
		return 1;
	}
	memcpy(p, repl, flen);
	fix_crc(f, n);
	fresh();
	int rc = vm_load(&ctx, f, n);
	snprintf(err, errlen, "%s", ctx.err);
	free(f);
	return rc;
}

TEST(verifier_refuses_bad_code)
{
	char err[256];
	const char *base = ".class Main\n.method static main 0 0\n.locals 1\n"
			   " iconst 1\n store 0\n goto l\nl:\n return\n.end\n";
	/* goto +5 (to `return`) becomes goto +2: into the middle of nothing. */
	uint8_t go_ok[5] = { VM_OP_GOTO, 5, 0, 0, 0 }, go_bad[5] = { VM_OP_GOTO, 2, 0, 0, 0 };
	CHECK(load_patched(base, (const char *)go_ok, 5, go_bad, err, sizeof err) == -ERR_CORRUPT);
	CHECKF(strstr(err, "branch target"), "%s", err);
	uint8_t go_out[5] = { VM_OP_GOTO, 0x00, 0x10, 0, 0 };
	CHECK(load_patched(base, (const char *)go_ok, 5, go_out, err, sizeof err) == -ERR_CORRUPT);
	/* store 0 -> store 9: local out of range. */
	uint8_t st_ok[3] = { VM_OP_STORE, 0, 0 }, st_bad[3] = { VM_OP_STORE, 9, 0 };
	CHECK(load_patched(base, (const char *)st_ok, 3, st_bad, err, sizeof err) == -ERR_CORRUPT);
	CHECKF(strstr(err, "local 9 out of range"), "%s", err);
	/* store 0 -> pop, pop: underflow at the second pop. */
	uint8_t pops[3] = { VM_OP_NOP, VM_OP_POP, VM_OP_POP };
	CHECK(load_patched(base, (const char *)st_ok, 3, pops, err, sizeof err) == -ERR_CORRUPT);
	CHECKF(strstr(err, "needs 1 values, the stack has 0"), "%s", err);
	/* return -> unknown opcode */
	uint8_t ret_ok[1] = { VM_OP_RETURN }, ret_bad[1] = { 0xee };
	const char *r1 = ".class Main\n.method static main 0 0\n nop\n return\n.end\n";
	CHECK(load_patched(r1, (const char *)ret_ok, 1, ret_bad, err, sizeof err) == -ERR_CORRUPT);
	CHECKF(strstr(err, "unknown opcode"), "%s", err);
	/* falling off the end: return -> nop */
	uint8_t nop[1] = { VM_OP_NOP };
	CHECK(load_patched(r1, (const char *)ret_ok, 1, nop, err, sizeof err) == -ERR_CORRUPT);
	CHECKF(strstr(err, "falls off"), "%s", err);
	/* inconsistent depth at a join */
	size_t n;
	char asm_err[256];
	uint8_t *f = NULL;
	const char *join = ".class Main\n.method static main 0 0\n iconst 0\n ifeq j\n iconst 1\n"
			   "j:\n return\n.end\n";
	CHECK(pasm_assemble("j.pasm", join, strlen(join), &f, &n, asm_err, sizeof asm_err) != 0);
	CHECKF(strstr(asm_err, "j.pasm:7:") && strstr(asm_err, "on another path"), "%s", asm_err);
	/* declared max_stack too small */
	const char *deep = ".class Main\n.method static main 0 0\n.stack 1\n iconst 0\n iconst 1\n"
			   " pop\n pop\n return\n.end\n";
	CHECK(pasm_assemble("d.pasm", deep, strlen(deep), &f, &n, asm_err, sizeof asm_err) != 0);
	CHECKF(strstr(asm_err, "d.pasm:5:") && strstr(asm_err, "exceeds max_stack"), "%s", asm_err);
}

TEST(link_errors)
{
	size_t n;
	const char *cases[][2] = {
		{ ".class Main extends Nope\n", "superclass not loaded" },
		{ ".class Main\n.method static main 0 0\n new Nope\n pop\n return\n.end\n", "Nope is not loaded" },
		{ ".class Main\n.method static main 0 0\n iconst 1\n iconst 2\n invokestatic Main.f 2/0\n return\n.end\n"
		  ".method static f 1 0\n return\n.end\n", "no method Main.f taking 2" },
		{ ".class Main\n.method static main 0 0\n aconst_null\n invokevirtual Main.f\n return\n.end\n"
		  ".method static f 1 0\n return\n.end\n", "does not fit" },
		{ ".class Main\n.field x\n.method static main 0 0\n getstatic Main.x\n pop\n return\n.end\n", "does not fit" },
		{ ".class Main\n.method static main 0 0\n getstatic Main.y\n pop\n return\n.end\n", "no field Main.y" },
		{ ".class interface I\n.field x\n", "declares instance fields" },
		{ ".class interface I\n.method abstract f 1 0\n.end\n.class Main implements I\n"
		  ".method f 1 0\n return\n.end\n.method static main 0 0\n new Main\n invokevirtual I.f\n return\n.end\n",
		  "does not fit" },
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t *f = assemble(cases[i][0], &n);
		CHECKF(f, "case %u did not assemble", i);
		fresh();
		uint64_t before = ((uint64_t *)region)[0];
		int rc = vm_load(&ctx, f, n);
		free(f);
		CHECKF(rc < 0, "case %u loaded", i);
		CHECKF(strstr(ctx.err, cases[i][1]), "case %u: \"%s\" lacks \"%s\"", i, ctx.err, cases[i][1]);
		CHECK(((uint64_t *)region)[0] == before);
		uint32_t id;
		CHECKF(vm_thread_start(&ctx, "Main", "main", &id) == -ERR_NOENT, "case %u: Main exists after a failed load", i);
	}
}

TEST(disassembler_round_trip)
{
	size_t n;
	uint8_t *f = assemble(prog, &n);
	CHECK(f);
	char out[8192];
	CHECK(vm_disasm(f, n, out, sizeof out) == 0);
	CHECKF(strstr(out, "invokevirtual Base.get 1 1") && strstr(out, "invokenative string.length") &&
	       strstr(out, ".catch * @"), "%s", out);
	f[n - 1] ^= 0x55;
	CHECK(vm_disasm(f, n, out, sizeof out) == -ERR_CORRUPT);
	free(f);
}

int main(void)
{
	check_begin("vm_loader_test");
	RUN(valid_file_loads_and_runs);
	RUN(header_checks);
	RUN(every_truncation_is_refused);
	RUN(mutations_never_crash);
	RUN(verifier_refuses_bad_code);
	RUN(link_errors);
	RUN(disassembler_round_trip);
	free(region);
	return check_done();
}
