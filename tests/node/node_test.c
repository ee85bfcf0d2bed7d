/* node_test.c — the node runtime (replication/node.h) on a real image file:
 * first boot loads and starts the app and holds its output until a commit,
 * a reboot resumes (a finished app stays finished), the output-commit switch,
 * node_stop() from another thread, net.write bytes and net.close held
 * until the commit like the console, refusals that leave the file as it
 * was (no app for an empty image, a foreign file), and memory the app
 * dropped long enough ago left out of the image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "hosted.h"
#include "plat.h"
#include "cluster-tools/asm/asm.h"
#include "persist/image.h"
#include "persist/mutator.h"
#include "replication/node.h"

static const char FINITE[] =
	".class Main\n.method static main 0 0\n"
	"    ldc \"a\"\n    print\n    ldc \"b\"\n    print\n    return\n.end\n";
static const char FOREVER[] =
	".class Main\n.static n\n.method static main 0 0\n"
	"    iconst 0\n    putstatic Main.n\n"
	"top:\n    getstatic Main.n\n    iconst 1\n    iadd\n    putstatic Main.n\n"
	"    goto top\n.end\n";

static const char COUNT[] =
	".class Main\n.method static main 0 0\n.locals 1\n"
	"    iconst 0\n    store 0\n"
	"top:\n    load 0\n    print\n    iinc 0 1\n    load 0\n    iconst 20\n"
	"    if_icmplt top\n    return\n.end\n";

static char seen[1024];
static size_t nseen;

static void sink(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	if (nseen + len < sizeof seen) {
		memcpy(seen + nseen, s, len);
		nseen += len;
		seen[nseen] = 0;
	}
}

static char path[64];
static struct node_class cls;

static int assemble(const char *text)
{
	uint8_t *out;
	size_t len;
	char err[200];
	free((void *)cls.data);
	if (pasm_assemble("test.pasm", text, strlen(text), &out, &len, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	cls = (struct node_class){ "test.pcl", out, len };
	return 0;
}

/* Boots the image at path (created when create) with the current class. */
static size_t capacity;
static uint64_t discard_age_ns;       /* node_config's; 0: its default */

static int boot(bool create, bool hold, uint64_t interval_ms, struct plat_blk **blk,
		struct node **n)
{
	nseen = 0;
	seen[0] = 0;
	int rc = plat_blk_open(path, create ? PLAT_BLK_CREATE : 0, 16u << 20, blk);
	if (rc < 0)
		return rc;
	struct node_config cfg = {
		.blk = *blk, .create = create, .arena_size = 4u << 20,
		.interval_ns = interval_ms * 1000000ull, .output_commit = hold,
		.classes = &cls, .nclasses = cls.data ? 1 : 0,
		.entry_class = "Main", .entry_method = "main",
		.console = sink, .out_capacity = capacity,
		.discard_age_ns = discard_age_ns,
	};
	char why[256];
	rc = node_boot(&cfg, n, why, sizeof why);
	if (rc < 0) {
		plat_blk_close(*blk);
		fprintf(stderr, "node_boot: %s\n", why);
	}
	return rc;
}

TEST(first_boot_holds_output_until_commit)
{
	struct plat_blk *blk;
	struct node *n;
	unlink(path);
	CHECK(assemble(FINITE) == 0);
	/* A 10 s clock: no snapshot happens during the run by itself. */
	CHECK(boot(true, true, 10000, &blk, &n) == 0);
	CHECK(node_first_boot(n));
	struct node_run_result r;
	CHECK(node_run(n, &r) == 0);
	CHECK(r.finished && r.failed == 0);
	CHECK(nseen == 0);                       /* held: not committed yet */
	uint64_t e;
	CHECK(node_sync(n, 10000000000ull, &e) == 0);
	CHECK(strcmp(seen, "a\nb\n") == 0);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);

	/* Reboot: the finished thread stays finished, nothing is printed. */
	CHECK(boot(false, true, 10000, &blk, &n) == 0);
	CHECK(!node_first_boot(n));
	CHECK(node_boot_epoch(n) >= e);
	CHECK(node_run(n, &r) == 0);
	CHECK(r.finished);
	CHECK(node_shutdown(n, true) == 0);
	CHECK(nseen == 0);
	plat_blk_close(blk);
}

TEST(output_commit_off_writes_at_once)
{
	struct plat_blk *blk;
	struct node *n;
	unlink(path);
	CHECK(assemble(FINITE) == 0);
	CHECK(boot(true, false, 10000, &blk, &n) == 0);
	struct node_run_result r;
	CHECK(node_run(n, &r) == 0);
	CHECK(strcmp(seen, "a\nb\n") == 0);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
}

struct stopper { struct node *n; };
static void stop_later(void *arg)
{
	plat_sleep_ns(200000000);
	node_stop(((struct stopper *)arg)->n);
}

TEST(stop_from_another_thread_with_snapshots_running)
{
	struct plat_blk *blk;
	struct node *n;
	unlink(path);
	CHECK(assemble(FOREVER) == 0);
	CHECK(boot(true, true, 5, &blk, &n) == 0);
	struct stopper s = { n };
	plat_thread *t;
	CHECK(plat_thread_create(&t, stop_later, &s, "stopper") == 0);
	uint64_t t0 = plat_monotonic_ns();
	struct node_run_result r;
	CHECK(node_run(n, &r) == 0);
	CHECK(!r.finished);
	CHECK(plat_monotonic_ns() - t0 < 5000000000ull);
	plat_thread_join(t);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
	/* The endless loop resumes. */
	CHECK(boot(false, true, 5, &blk, &n) == 0);
	CHECK(!node_first_boot(n) && node_boot_epoch(n) > 1);
	CHECK(node_shutdown(n, false) == 0);
	plat_blk_close(blk);
}

/* A 4-byte hold buffer: the VM waits at safepoints for commits; every line
 * arrives, in order. */
TEST(tiny_buffer_waits_and_never_drops)
{
	struct plat_blk *blk;
	struct node *n;
	unlink(path);
	CHECK(assemble(COUNT) == 0);
	capacity = 4;
	CHECK(boot(true, true, 2, &blk, &n) == 0);
	struct node_run_result r;
	CHECK(node_run(n, &r) == 0 && r.finished);
	CHECK(node_sync(n, 10000000000ull, NULL) == 0);
	capacity = 0;
	char want[256] = "";
	for (int i = 0; i < 20; i++)
		snprintf(want + strlen(want), sizeof want - strlen(want), "%d\n", i);
	CHECK(strcmp(seen, want) == 0);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
}

/* An image created but cut off before its first boot committed a VM: the
 * next boot formats it (first boot again), not an error. */
TEST(image_without_vm_gets_first_boot)
{
	struct plat_blk *blk;
	struct node *n;
	struct pst_mut_registry *reg;
	struct pst_image *img;
	char why[200];
	unlink(path);
	CHECK(plat_blk_open(path, PLAT_BLK_CREATE, 16u << 20, &blk) == 0);
	CHECK(pst_mut_registry_new(&reg) == 0);
	struct pst_image_config ic = { .blk = blk, .arena_size = 4u << 20,
				       .world = pst_mut_world(reg) };
	CHECK(pst_image_create(&ic, &img, why, sizeof why) == 0);
	CHECK(pst_image_close(img, true) == 0);
	pst_mut_registry_free(reg);
	plat_blk_close(blk);
	CHECK(assemble(FINITE) == 0);
	CHECK(boot(false, false, 50, &blk, &n) == 0);
	CHECK(node_first_boot(n));
	struct node_run_result r;
	CHECK(node_run(n, &r) == 0 && r.finished);
	CHECK(strcmp(seen, "a\nb\n") == 0);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
}

TEST(empty_image_without_app_is_refused)
{
	struct plat_blk *blk;
	struct node *n;
	unlink(path);
	free((void *)cls.data);
	cls.data = NULL;
	CHECK(boot(true, true, 50, &blk, &n) == -ERR_NOENT);
}

TEST(foreign_file_refused_untouched)
{
	struct plat_blk *blk;
	struct node *n;
	static unsigned char junk[1 << 16], back[1 << 16];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(junk, 1, sizeof junk, f) == sizeof junk);
	fclose(f);
	CHECK(assemble(FINITE) == 0);
	CHECK(boot(false, true, 50, &blk, &n) == -ERR_CORRUPT);
	f = fopen(path, "rb");
	CHECK(f && fread(back, 1, sizeof back, f) == sizeof back);
	fclose(f);
	CHECK(memcmp(junk, back, sizeof junk) == 0);
}

/* net.write and net.close from the app reach the peer only at the commit:
 * before it the peer reads nothing and sees no end of stream. */
TEST(net_output_held_until_commit)
{
	plat_sock *ls, *c = NULL;
	CHECK(plat_sock_listen("127.0.0.1", 0, &ls) == 0);
	char text[512];
	snprintf(text, sizeof text,
		 ".class Main\n.method static main 0 0\n.locals 1\n"
		 " ldc \"127.0.0.1\"\n iconst %d\n invokenative net.connect\n store 0\n"
		 " load 0\n ldc \"hi\"\n invokenative net.write\n"
		 " load 0\n invokenative net.close\n return\n.end\n",
		 plat_active->sock_port(ls));
	struct plat_blk *blk;
	struct node *n;
	unlink(path);
	CHECK(assemble(text) == 0);
	CHECK(boot(true, true, 10000, &blk, &n) == 0);
	struct node_run_result r;
	CHECK(node_run(n, &r) == 0);
	CHECK(r.finished && r.failed == 0);
	CHECK(plat_sock_accept(ls, &c, 2000000000ull) == 0);
	char buf[16];
	long got = -1;
	if (c != NULL) {
		got = plat_active->sock_recv(c, buf, sizeof buf, 100000000ull);
		CHECKF(got == -ERR_TIMEDOUT || got == -ERR_AGAIN,
		       "before the commit the peer read %ld", got);
	}
	CHECK(node_sync(n, 10000000000ull, NULL) == 0);
	if (c != NULL) {
		got = plat_active->sock_recv(c, buf, sizeof buf, 2000000000ull);
		CHECK(got == 2 && memcmp(buf, "hi", 2) == 0);
		/* The close was held behind the bytes: now end of stream. */
		CHECK(plat_active->sock_recv(c, buf, sizeof buf, 2000000000ull) == 0);
		plat_active->sock_close(c);
	}
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
	plat_active->sock_close(ls);
}

/* Memory the app dropped and left alone long enough is declared unused: a
 * filled 1.5 MiB array, dropped, is never written to the image. DROPPED is
 * the app's start (the array filled, a static allocated after it, the
 * array dropped); each test adds what the app does next. */
#define DROPPED                                                              \
	".class Main\n.static keep\n.method static main 0 0\n.locals 3\n"    \
	"    iconst 196608\n    newarray\n    store 0\n"                      \
	"    iconst 0\n    store 1\n"                                          \
	"fill:\n    load 0\n    load 1\n    load 1\n    astore\n"             \
	"    iinc 1 1\n    load 1\n    iconst 196608\n    if_icmplt fill\n"   \
	"    iconst 4\n    newarray\n    putstatic Main.keep\n"               \
	"    aconst_null\n    store 0\n    iconst 0\n    store 1\n"
#define DONE "    ldc \"done\"\n    print\n    return\n.end\n"

/* Runs app to its end with the given minimum age, commits, and checks the
 * array's 384 pages (dirtied, then declared, in one epoch) were not stored.
 * The node is left booted in *n on *blk. */
static void run_dropping(const char *app, uint64_t age_ns, struct plat_blk **blk,
			 struct node **n)
{
	unlink(path);
	CHECK(assemble(app) == 0);
	discard_age_ns = age_ns;
	CHECK(boot(true, true, 10000, blk, n) == 0);
	discard_age_ns = 0;
	struct node_run_result r;
	CHECK(node_run(*n, &r) == 0);
	CHECK(r.finished && r.failed == 0);
	CHECK(node_sync(*n, 10000000000ull, NULL) == 0);
	CHECK(strcmp(seen, "done\n") == 0);
	struct pst_image_stats st;
	pst_image_stats(node_image(*n), &st);
	CHECKF(st.snap.pages_unused >= 380, "%llu pages unused",
	       (unsigned long long)st.snap.pages_unused);
	uint64_t stored = st.snap.pages_saved - st.pages_unchanged;
	CHECKF(stored < 100, "%llu pages stored", (unsigned long long)stored);
}

/* The app goes on allocating arrays larger than the hole (so none reuses
 * it) and the collections this drives hand it over (a 1 ns age: every
 * sweep is a pass); the image then reboots. */
TEST(dropped_memory_is_not_stored)
{
	struct plat_blk *blk;
	struct node *n;
	run_dropping(DROPPED
		     "churn:\n    aconst_null\n    store 2\n"
		     "    iconst 210000\n    newarray\n    store 2\n"
		     "    iinc 1 1\n    load 1\n    iconst 6\n    if_icmplt churn\n"
		     DONE, 1, &blk, &n);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
	CHECK(boot(false, true, 10000, &blk, &n) == 0);
	struct node_run_result r;
	CHECK(node_run(n, &r) == 0);
	CHECK(r.finished && r.failed == 0);
	CHECK(nseen == 0);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
}

/* The app only sleeps after dropping it: nothing allocates, so the
 * runner's idle collection (1 ms age) is what hands it over. */
TEST(memory_dropped_before_sleeping_is_not_stored)
{
	struct plat_blk *blk;
	struct node *n;
	run_dropping(DROPPED
		     "nap:\n    iconst 20\n    invokenative thread.sleep\n"
		     "    iinc 1 1\n    load 1\n    iconst 15\n    if_icmplt nap\n"
		     DONE, 1000000, &blk, &n);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
}

/* Two million short-lived objects with a snapshot every 5 ms: they live
 * in the VM's nursery, which the node makes a volatile range, so no epoch
 * stores its pages (without that, each epoch of the churn would store the
 * nursery's 64 pages). */
TEST(the_nursery_is_never_stored)
{
	unlink(path);
	CHECK(assemble(".class Cell\n.field v\n.class Main\n.method static main 0 0\n.locals 1\n"
		       "    iconst 0\n    store 0\n"
		       "churn:\n    new Cell\n    pop\n"
		       "    iinc 0 1\n    load 0\n    iconst 2000000\n    if_icmplt churn\n"
		       DONE) == 0);
	struct plat_blk *blk;
	struct node *n;
	CHECK(boot(true, true, 5, &blk, &n) == 0);
	struct pst_image_stats s0, s1;
	pst_image_stats(node_image(n), &s0);
	struct node_run_result r;
	CHECK(node_run(n, &r) == 0);
	CHECK(r.finished && r.failed == 0);
	CHECK(node_sync(n, 10000000000ull, NULL) == 0);
	CHECK(strcmp(seen, "done\n") == 0);
	pst_image_stats(node_image(n), &s1);
	uint64_t epochs = s1.snap.epochs_committed - s0.snap.epochs_committed;
	uint64_t stored = (s1.snap.pages_saved - s0.snap.pages_saved) -
			  (s1.pages_unchanged - s0.pages_unchanged);
	CHECKF(s1.arena.volatile_faults > 0, "no fault in a volatile range");
	CHECKF(epochs >= 5, "%llu epochs", (unsigned long long)epochs);
	CHECKF(stored < 64 + 4 * epochs, "%llu pages stored in %llu epochs",
	       (unsigned long long)stored, (unsigned long long)epochs);
	CHECK(node_shutdown(n, true) == 0);
	plat_blk_close(blk);
}

int main(void)
{
	check_begin("node");
	if (plat_hosted_init() != 0)
		return 1;
	snprintf(path, sizeof path, "/tmp/node_test.%d.img", (int)getpid());
	RUN(first_boot_holds_output_until_commit);
	RUN(output_commit_off_writes_at_once);
	RUN(net_output_held_until_commit);
	RUN(stop_from_another_thread_with_snapshots_running);
	RUN(tiny_buffer_waits_and_never_drops);
	RUN(image_without_vm_gets_first_boot);
	RUN(empty_image_without_app_is_refused);
	RUN(foreign_file_refused_untouched);
	RUN(dropped_memory_is_not_stored);
	RUN(memory_dropped_before_sleeping_is_not_stored);
	RUN(the_nursery_is_never_stored);
	unlink(path);
	return check_done();
}
