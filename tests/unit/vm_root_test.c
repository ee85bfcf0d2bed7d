/* vm_root_test.c — the persistent root directory: put/get/remove/list over
 * enough names to grow the table and exercise backward-shift removal,
 * bindings surviving a full collection (with stress) and a restore of the
 * region's bytes, rebinding, and errors on bad names. */
#include "../vm/vmtest.h"

static const char *prog =
	".class Main\n"
	/* name(i) = "k" + i */
	".method static name 1 1\n ldc \"k\"\n load 0\n sconcat\n vreturn\n.end\n"
	/* put k0..k199 -> i*3, remove the even ones, rebind k1 to "one". */
	".method static main 0 1\n.locals 1\n"
	" iconst 0\n store 0\n"
	"p:\n load 0\n invokestatic Main.name\n load 0\n iconst 3\n imul\n invokenative root.put\n"
	" iinc 0 1\n load 0\n iconst 200\n if_icmplt p\n"
	" iconst 0\n store 0\n"
	"r:\n load 0\n invokestatic Main.name\n invokenative root.remove\n pop\n"
	" iinc 0 2\n load 0\n iconst 200\n if_icmplt r\n"
	" ldc \"k4\"\n invokenative root.remove\n print\n"          /* already gone: 0 */
	" ldc \"k1\"\n ldc \"one\"\n invokenative root.put\n"
	" invokenative root.list\n arraylength\n vreturn\n.end\n"
	/* After the restore: sum of the odd bindings except k1, the k1 string,
	 * and a missing name. */
	".method static check 0 1\n.locals 2\n"
	" iconst 3\n store 0\n iconst 0\n store 1\n"
	"c:\n load 1\n load 0\n invokestatic Main.name\n invokenative root.get\n iadd\n store 1\n"
	" iinc 0 2\n load 0\n iconst 200\n if_icmplt c\n"
	" ldc \"k1\"\n invokenative root.get\n print\n"
	" ldc \"k2\"\n invokenative root.get\n print\n"
	" load 1\n vreturn\n.end\n"
	".method static badname 0 0\n iconst 5\n iconst 1\n invokenative root.put\n return\n.end\n";

TEST(directory_survives_gc_and_restore)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, prog, true, &id, err, sizeof err) == 0, "%s", err);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_DONE);
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), 100);
	CHECK_STR(vt_out.buf, "0\n");
	vm_gc(&ctx);
	CHECKF(vt_restore(&ctx) == 0, "%s", ctx.err);
	vm_gc(&ctx);
	uint32_t id2;
	CHECK(vm_thread_start(&ctx, "Main", "check", &id2) == 0);
	vm_gc_stress(&ctx, true);
	CHECK_EQ(vm_run(&ctx, id2, 0), VM_RUN_DONE);
	CHECK(vm_thread_result(&ctx, id2, &v) == 0);
	int64_t want = 0;
	for (int i = 3; i < 200; i += 2)
		want += i * 3;
	CHECK_EQ(vm_fix_val(v), want);
	CHECK_STR(vt_out.buf, "0\none\nnull\n");
}

TEST(bad_name_throws)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, prog, true, &id, err, sizeof err) == 0, "%s", err);
	CHECK(vm_thread_start(&ctx, "Main", "badname", &id) == 0);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_FAILED);
	CHECKF(strstr(ctx.err, "ClassCastException") != NULL, "%s", ctx.err);
}

int main(void)
{
	check_begin("vm_root_test");
	RUN(directory_survives_gc_and_restore);
	RUN(bad_name_throws);
	munmap(VT_ADDR, VT_REGION);
	return check_done();
}
