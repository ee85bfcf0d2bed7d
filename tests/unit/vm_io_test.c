/* vm_io_test.c — console input and TCP natives on the hosted platform:
 * readLine blocks until a full line is fed and returns null at the end;
 * an echo server and a client in VM threads talk over loopback; after a
 * restore a connection handle raises a catchable IOException while a
 * listener handle is reopened on its port and accepts again. */
#include <pthread.h>
#include <unistd.h>

#include "../vm/vmtest.h"
#include "hosted.h"

static const char *console_prog =
	".class Main\n"
	".method static main 0 1\n.locals 2\n iconst 0\n store 1\n"
	"l:\n invokenative console.readLine\n dup\n store 0\n ifnull done\n"
	" ldc \"[\"\n load 0\n sconcat\n ldc \"]\"\n sconcat\n print\n iinc 1 1\n goto l\n"
	"done:\n load 1\n vreturn\n.end\n";

TEST(console_read_line_blocks_until_a_line)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, console_prog, true, &id, err, sizeof err) == 0, "%s", err);
	CHECK_EQ(vm_run(&ctx, id, 0), VM_RUN_BLOCKED);
	CHECK_EQ(vm_next_wakeup_ns(&ctx), UINT64_MAX);    /* host-fed: waits for input */
	CHECK(vm_console_input(&ctx, "ab\r\ncd", 6) == 0);
	CHECK_EQ(vm_next_wakeup_ns(&ctx), 0);
	vm_run_all(&ctx, 100);
	CHECK_STR(vt_out.buf, "[ab]\n");
	CHECK(vm_console_input(&ctx, "\n\nxy", 4) == 0);
	vm_run_all(&ctx, 100);
	CHECK_STR(vt_out.buf, "[ab]\n[cd]\n[]\n");
	CHECK(!vm_all_done(&ctx));
	/* A restore forgets unread C-side input; the reader keeps waiting. */
	CHECKF(vt_restore(&ctx) == 0, "%s", ctx.err);
	vm_run_all(&ctx, 100);
	CHECK(!vm_all_done(&ctx));
	CHECK(vm_console_input(&ctx, "last", 4) == 0);
	CHECK(vm_console_input(&ctx, NULL, 0) == 0);      /* end of input */
	vm_run_all(&ctx, 100);
	CHECK(vm_all_done(&ctx));
	CHECK_STR(vt_out.buf, "[ab]\n[cd]\n[]\n[last]\n");
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), 4);
	vm_detach(&ctx);
}

/* Poll mode: the VM reads the platform console (here a pipe on fd 0)
 * itself; a reader blocked on a partial line wakes within the poll
 * interval once the rest arrives, and sees the end when the pipe closes. */
TEST(console_poll_mode_reads_the_platform_console)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	int p[2];
	CHECK(pipe(p) == 0);
	int saved = dup(0);
	CHECK(saved >= 0 && dup2(p[0], 0) == 0);
	close(p[0]);
	int rc = vt_boot(&ctx, console_prog, false, &id, err, sizeof err);
	ctx.console_poll = true;
	bool ok = rc == 0 && write(p[1], "p1\np2", 5) == 5;
	for (int i = 0; ok && i < 50 && !strstr(vt_out.buf, "[p1]"); i++)
		vt_drive(&ctx, 100, 1);
	bool first = strcmp(vt_out.buf, "[p1]\n") == 0;
	uint64_t next = vm_next_wakeup_ns(&ctx);   /* re-polls the console */
	ok = ok && write(p[1], "\n", 1) == 1;
	close(p[1]);
	int drv = ok ? vt_drive(&ctx, 100, 200) : -1;
	dup2(saved, 0);
	close(saved);
	CHECKF(rc == 0, "%s", err);
	CHECK(ok);
	CHECKF(first, "got <<%s>>", vt_out.buf);
	CHECK(next != 0 && next != UINT64_MAX);
	CHECK_EQ(drv, 0);
	CHECK_STR(vt_out.buf, "[p1]\n[p2]\n");
	vm_value v;
	CHECK(vm_thread_result(&ctx, id, &v) == 0);
	CHECK_EQ(vm_fix_val(v), 2);
	vm_detach(&ctx);
}

/* main: listen on an ephemeral port, start an echo server thread on it,
 * connect, send, print the reply, join the server. */
static const char *echo_prog =
	".class Main\n.static lis\n"
	".method static server 1 0\n.locals 3\n"
	" load 0\n invokenative net.accept\n store 1\n"
	" load 1\n iconst 100\n invokenative net.read\n store 2\n"
	" load 1\n ldc \"echo:\"\n load 2\n sconcat\n invokenative net.write\n"
	" load 1\n invokenative net.close\n return\n.end\n"
	".method static main 0 0\n.locals 4\n"
	" iconst 0\n invokenative net.listen\n dup\n store 0\n putstatic Main.lis\n"
	" ldc \"Main.server\"\n load 0\n invokenative thread.start\n store 3\n"
	" ldc \"127.0.0.1\"\n load 0\n invokenative net.port\n invokenative net.connect\n store 1\n"
	" load 1\n ldc \"hello\"\n invokenative net.write\n"
	" load 1\n iconst 100\n invokenative net.read\n print\n"
	" load 1\n iconst 100\n invokenative net.read\n print\n"   /* EOF: null */
	" load 3\n invokenative thread.join\n pop\n return\n.end\n";

TEST(echo_over_loopback)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, echo_prog, false, &id, err, sizeof err) == 0, "%s", err);
	CHECK(vt_drive(&ctx, 100, 500) == 0);
	CHECK_STR(vt_out.buf, "echo:hello\nnull\n");
	vm_detach(&ctx);
}

/* A server keeps its listener in a static: it accepts, reads and echoes
 * one line per connection; an IOException on a connection is printed and
 * the server goes back to accept. */
static const char *restart_prog =
	".class Main\n.static lis\n"
	".method static main 0 0\n.locals 3\n"
	" iconst 0\n invokenative net.listen\n putstatic Main.lis\n"
	"acc:\n getstatic Main.lis\n invokenative net.accept\n store 0\n"
	"t0:\n load 0\n iconst 100\n invokenative net.read\n store 1\n"
	" load 1\n ifnull acc\n"
	" load 0\n load 1\n invokenative net.write\nt1:\n goto t0\n"
	"h:\n getfield Throwable.message\n ldc \"io: \"\n swap\n sconcat\n print\n goto acc\n"
	".catch IOException t0 t1 h\n"
	".end\n";

struct client { int port; char got[64]; int rc; };

static void *client_main(void *arg)
{
	struct client *c = arg;
	plat_sock *s;
	c->rc = plat_active->sock_connect("127.0.0.1", (uint16_t)c->port, &s, 2000000000ull);
	if (c->rc)
		return NULL;
	c->rc = plat_active->sock_send(s, "ping", 4);
	long n = c->rc ? -1 : plat_active->sock_recv(s, c->got, sizeof c->got - 1, 3000000000ull);
	if (n > 0)
		c->got[n] = 0;
	else if (!c->rc)
		c->rc = (int)n - 1000;
	plat_active->sock_close(s);
	return NULL;
}

/* Drive the VM on the real clock while a client thread talks to it. */
static int talk(struct vm_ctx *ctx, int port, struct client *c)
{
	memset(c, 0, sizeof *c);
	c->port = port;
	pthread_t th;
	pthread_create(&th, NULL, client_main, c);
	for (int i = 0; i < 300 && !c->got[0] && c->rc == 0; i++)
		vt_drive(ctx, 100, 1);
	pthread_join(th, NULL);
	return c->rc;
}

TEST(restart_kills_connections_and_reopens_listeners)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	CHECKF(vt_boot(&ctx, restart_prog, false, &id, err, sizeof err) == 0, "%s", err);
	vm_run_all(&ctx, 100);
	CHECK(!vm_all_done(&ctx));
	/* The listener's ephemeral port, read by a second class's thread. */
	uint32_t pid;
	const char *probe = ".class Probe\n.method static port 0 1\n getstatic Main.lis\n invokenative net.port\n vreturn\n.end\n";
	uint8_t *cls;
	size_t n;
	CHECKF(pasm_assemble("p.pasm", probe, strlen(probe), &cls, &n, err, sizeof err) == 0, "%s", err);
	CHECKF(vm_load(&ctx, cls, n) == 0, "%s", ctx.err);
	free(cls);
	CHECK(vm_thread_start(&ctx, "Probe", "port", &pid) == 0);
	CHECK_EQ(vm_run(&ctx, pid, 0), VM_RUN_DONE);
	vm_value pv;
	CHECK(vm_thread_result(&ctx, pid, &pv) == 0);
	int port = (int)vm_fix_val(pv);
	CHECK(port > 0);

	struct client c;
	CHECKF(talk(&ctx, port, &c) == 0, "client rc %d", c.rc);
	CHECK_STR(c.got, "ping");
	/* Hold a connection open so the server is blocked reading it, then
	 * crash: the process's sockets die with it. */
	plat_sock *held;
	CHECK(plat_active->sock_connect("127.0.0.1", (uint16_t)port, &held, 2000000000ull) == 0);
	for (int i = 0; i < 5; i++)
		vt_drive(&ctx, 100, 1);
	CHECKF(vt_restore(&ctx) == 0, "%s", ctx.err);
	plat_active->sock_close(held);
	/* After the reboot: the read raises IOException, the server loops to
	 * accept, which reopens the listener on the same port. */
	for (int i = 0; i < 5; i++)
		vt_drive(&ctx, 100, 1);
	CHECK_STR(vt_out.buf, "io: connection lost in a restart\n");
	CHECKF(talk(&ctx, port, &c) == 0, "client rc %d after restart", c.rc);
	CHECK_STR(c.got, "ping");
	vm_detach(&ctx);
}

TEST(bad_socket_arguments_throw)
{
	char err[512];
	struct vm_ctx ctx;
	uint32_t id;
	const char *prog = ".class Main\n.method static main 0 0\n"
		"a0:\n iconst 70000\n invokenative net.listen\n pop\na1:\n return\n"
		"h:\n getfield Throwable.message\n print\n"
		"b0:\n ldc \"127.0.0.1\"\n iconst 1\n invokenative net.connect\n pop\nb1:\n return\n"
		"h2:\n checkcast IOException\n pop\n ldc \"refused\"\n print\n return\n"
		".catch IllegalArgumentException a0 a1 h\n.catch IOException b0 b1 h2\n.end\n";
	CHECKF(vt_boot(&ctx, prog, false, &id, err, sizeof err) == 0, "%s", err);
	CHECK(vt_drive(&ctx, 100, 10) == 0);
	CHECK_STR(vt_out.buf, "net.listen: port out of range\nrefused\n");
	vm_detach(&ctx);
}

int main(void)
{
	check_begin("vm_io_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: vm_io_test/init: plat_hosted_init failed\n");
		return 1;
	}
	RUN(console_read_line_blocks_until_a_line);
	RUN(console_poll_mode_reads_the_platform_console);
	RUN(echo_over_loopback);
	RUN(restart_kills_connections_and_reopens_listeners);
	RUN(bad_socket_arguments_throw);
	munmap(VT_ADDR, VT_REGION);
	return check_done();
}
