/* io.c — internal classes over the platform's I/O: console input
 * (console.readLine) and TCP (net.listen/accept/connect/read/write/close/
 * port). Owns struct vm_io, the C-side state of one boot: buffered console
 * input and the socket table that Socket handles index.
 *
 * Rules: the VM never waits inside a native. Accept and read poll with
 * timeout 0; with nothing ready the thread blocks (BLOCKED on SOCKET or
 * CONSOLE) and re-polls every VM_IO_POLL_NS or at vm_wake(). Connect and
 * write are bounded waits (connect: VM_CONNECT_NS; write: until the
 * platform has taken the bytes). With a net output hook (vm_set_net_output)
 * write and close go to the hook instead, which may hold them until the
 * state behind them has committed. After a restore the table is gone and
 * root->boot_gen has advanced: a connection handle of an older boot raises
 * IOException, a listener handle reopens its port on first use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"
#include "internal.h"

#define VM_IO_POLL_NS   (10u * 1000000u)      /* 10 ms */
#define VM_CONNECT_NS   (2000u * 1000000ull)  /* 2 s  */
#define VM_READ_MAX     65536u

struct vm_io_slot {
	plat_sock *s;                  /* NULL: free                          */
	uint8_t *pending;              /* received, not yet delivered (OOM)   */
	size_t npending;
};

struct vm_io {
	char *in;                      /* console bytes not yet read          */
	size_t nin, capin;
	bool eof;
	struct vm_io_slot *slots;
	uint32_t nslots;
};

static struct vm_io *io_get(struct vm_ctx *ctx)
{
	if (!ctx->io)
		ctx->io = calloc(1, sizeof *ctx->io);
	return ctx->io;
}

void vm_io_free(struct vm_ctx *ctx)
{
	struct vm_io *io = ctx->io;
	if (!io)
		return;
	for (uint32_t i = 0; i < io->nslots; i++) {
		if (io->slots[i].s)
			plat_sock_close(io->slots[i].s);
		free(io->slots[i].pending);
	}
	free(io->slots);
	free(io->in);
	free(io);
	ctx->io = NULL;
}

void vm_detach(struct vm_ctx *ctx)
{
	vm_io_free(ctx);
}

static int throw_msg(struct vm_ctx *ctx, int bi, const char *msg, vm_value *ret)
{
	*ret = vm_make_exception(ctx, bi, msg);
	return VM_NAT_THROW;
}

static int throw_err(struct vm_ctx *ctx, const char *what, int rc, vm_value *ret)
{
	char buf[96];
	snprintf(buf, sizeof buf, "%s: %s", what, err_str(rc));
	return throw_msg(ctx, VM_BI_IOE, buf, ret);
}

static struct vm_string *as_string(vm_value v)
{
	if (!vm_is_ref(v))
		return NULL;
	struct vm_obj *o = vm_ptr(v);
	return o->cls->kind == VM_K_STRING ? (struct vm_string *)o : NULL;
}

/* ---- console ---- */

static int in_append(struct vm_io *io, const void *p, size_t n)
{
	if (io->nin + n > io->capin) {
		size_t cap = (io->nin + n) * 2 + 256;
		char *b = realloc(io->in, cap);
		if (!b)
			return -ERR_NOMEM;
		io->in = b;
		io->capin = cap;
	}
	memcpy(io->in + io->nin, p, n);
	io->nin += n;
	return 0;
}

int vm_console_input(struct vm_ctx *ctx, const void *bytes, size_t len)
{
	struct vm_io *io = io_get(ctx);
	if (!io)
		return -ERR_NOMEM;
	if (len == 0)
		io->eof = true;
	else if (in_append(io, bytes, len))
		return -ERR_NOMEM;
	vm_wake(ctx);
	return 0;
}

static void console_poll(struct vm_ctx *ctx, struct vm_io *io)
{
	if (!ctx->console_poll || !plat_active || io->eof)
		return;
	char buf[512];
	for (;;) {
		int n = plat_console_read(buf, sizeof buf, 0);
		if (n < 0)
			io->eof = true;
		if (n <= 0 || in_append(io, buf, (size_t)n))
			return;
	}
}

bool vm_io_console_ready(struct vm_ctx *ctx)
{
	struct vm_io *io = io_get(ctx);
	if (!io)
		return false;
	console_poll(ctx, io);
	return io->eof || (io->nin && memchr(io->in, '\n', io->nin) != NULL);
}

/* console.readLine() -> the next line without its newline ("\r\n" too),
 * or null at end of input; a last line without a newline is returned at
 * end of input. The bytes are consumed only once the string exists. */
int vm_n_console_read_line(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)a;
	struct vm_io *io = io_get(ctx);
	if (!io)
		return VM_BI_OOM + 1;
	console_poll(ctx, io);
	char *nl = io->nin ? memchr(io->in, '\n', io->nin) : NULL;
	if (!nl && !io->eof)
		return vm_block(ctx, VM_BK_CONSOLE, VM_NULL, ctx->console_poll ? VM_IO_POLL_NS : 0);
	if (!nl && io->nin == 0) {
		*ret = VM_NULL;
		return 0;
	}
	size_t take = nl ? (size_t)(nl - io->in) + 1 : io->nin;
	size_t len = nl ? take - 1 : take;
	if (len && io->in[len - 1] == '\r')
		len--;
	struct vm_string *s = vm_new_string(ctx, io->in, len);
	if (!s)
		return VM_BI_OOM + 1;
	memmove(io->in, io->in + take, io->nin - take);
	io->nin -= take;
	*ret = vm_ref(s);
	return 0;
}

/* ---- sockets ---- */

static int slot_new(struct vm_io *io, plat_sock *s)
{
	for (uint32_t i = 0; i < io->nslots; i++)
		if (!io->slots[i].s) {
			io->slots[i].s = s;
			return (int)i;
		}
	struct vm_io_slot *n = realloc(io->slots, (io->nslots + 8) * sizeof *n);
	if (!n)
		return -1;
	memset(n + io->nslots, 0, 8 * sizeof *n);
	io->slots = n;
	n[io->nslots].s = s;
	io->nslots += 8;
	return (int)io->nslots - 8;
}

/* net.close: through the output hook when there is one (it may hold the
 * close behind bytes not yet sent), so the slot forgets the socket here. */
static void slot_close(struct vm_ctx *ctx, struct vm_io *io, uint32_t i)
{
	if (i >= io->nslots || !io->slots[i].s)
		return;
	if (ctx->net_out)
		ctx->net_out(ctx->net_out_arg, io->slots[i].s, NULL, 0);
	else
		plat_sock_close(io->slots[i].s);
	free(io->slots[i].pending);
	memset(&io->slots[i], 0, sizeof io->slots[i]);
}

static struct vm_handle *new_handle(struct vm_ctx *ctx)
{
	return vm_alloc(ctx, ctx->root->builtin[VM_BI_SOCKET], sizeof(struct vm_handle) / 8, 0);
}

/* Gives handle h the platform socket s for this boot; on failure s is
 * closed and -ERR_NOMEM returned. */
static int bind_sock(struct vm_ctx *ctx, struct vm_handle *h, plat_sock *s,
		     uint32_t kind)
{
	int slot = slot_new(ctx->io, s);
	if (slot < 0) {
		plat_sock_close(s);
		return -ERR_NOMEM;
	}
	h->slot = (uint32_t)slot;
	h->gen = (uint32_t)ctx->root->boot_gen;
	h->kind = kind;
	return 0;
}

static int listen_on(struct vm_ctx *ctx, struct vm_handle *h, uint16_t port)
{
	plat_sock *s;
	int rc = plat_sock_listen("0.0.0.0", port, &s);
	if (rc == 0 && (rc = bind_sock(ctx, h, s, VM_HK_LISTENER)) == 0)
		h->port = (uint32_t)plat_sock_port(s);
	return rc;
}

/* The live socket behind handle value v, reopening a stale listener.
 * NULL with *rc set to a native result when there is none. */
static plat_sock *sock_of(struct vm_ctx *ctx, vm_value v, uint32_t kind, int *rc, vm_value *ret)
{
	struct vm_io *io = io_get(ctx);
	if (!vm_is_ref(v) || ((struct vm_obj *)vm_ptr(v))->cls->kind != VM_K_HANDLE) {
		*rc = (v ? VM_BI_CCE : VM_BI_NPE) + 1;
		return NULL;
	}
	struct vm_handle *h = vm_ptr(v);
	if (!io) {
		*rc = VM_BI_OOM + 1;
		return NULL;
	}
	if (h->closed || h->kind != kind) {
		*rc = throw_msg(ctx, VM_BI_IOE, h->closed ? "socket is closed" : "wrong kind of socket", ret);
		return NULL;
	}
	if (h->gen != (uint32_t)ctx->root->boot_gen) {
		if (kind == VM_HK_CONN) {
			*rc = throw_msg(ctx, VM_BI_IOE, "connection lost in a restart", ret);
			return NULL;
		}
		int e = listen_on(ctx, h, (uint16_t)h->port);
		if (e) {
			*rc = throw_err(ctx, "net: reopening a listener", e, ret);
			return NULL;
		}
	}
	if (h->slot >= io->nslots || !io->slots[h->slot].s) {
		*rc = throw_msg(ctx, VM_BI_IOE, "socket is not open", ret);
		return NULL;
	}
	return io->slots[h->slot].s;
}

static bool no_net(struct vm_ctx *ctx, int *rc, vm_value *ret)
{
	if (plat_active && io_get(ctx))
		return false;
	*rc = throw_msg(ctx, VM_BI_IOE, "no platform network", ret);
	return true;
}

/* net.listen(port) -> a listening Socket on 0.0.0.0 (port 0: any). */
int vm_n_net_listen(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	int rc;
	if (no_net(ctx, &rc, ret))
		return rc;
	if (!vm_is_fix(a[0]) || vm_fix_val(a[0]) < 0 || vm_fix_val(a[0]) > 65535)
		return throw_msg(ctx, VM_BI_IAE, "net.listen: port out of range", ret);
	struct vm_handle *h = new_handle(ctx);
	if (!h)
		return VM_BI_OOM + 1;
	int e = listen_on(ctx, h, (uint16_t)vm_fix_val(a[0]));
	if (e)
		return throw_err(ctx, "net.listen", e, ret);
	*ret = vm_ref(h);
	return 0;
}

/* net.accept(listener) -> a connected Socket; blocks the thread. */
int vm_n_net_accept(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	int rc;
	if (no_net(ctx, &rc, ret))
		return rc;
	/* Allocate first, so an accepted connection is never dropped for
	 * want of memory; a[0] stays on the stack across the allocation. */
	struct vm_handle *c = new_handle(ctx);
	if (!c)
		return VM_BI_OOM + 1;
	plat_sock *ls = sock_of(ctx, a[0], VM_HK_LISTENER, &rc, ret);
	if (!ls)
		return rc;
	plat_sock *s;
	int e = plat_sock_accept(ls, &s, 0);
	if (e == -ERR_TIMEDOUT || e == -ERR_AGAIN)
		return vm_block(ctx, VM_BK_SOCKET, a[0], VM_IO_POLL_NS);
	if (e)
		return throw_err(ctx, "net.accept", e, ret);
	if (bind_sock(ctx, c, s, VM_HK_CONN) < 0)
		return VM_BI_OOM + 1;
	*ret = vm_ref(c);
	return 0;
}

/* net.connect(host, port) -> a connected Socket (a bounded wait). */
int vm_n_net_connect(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	int rc;
	if (no_net(ctx, &rc, ret))
		return rc;
	struct vm_string *host = as_string(a[0]);
	if (!host)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	if (!vm_is_fix(a[1]) || vm_fix_val(a[1]) <= 0 || vm_fix_val(a[1]) > 65535)
		return throw_msg(ctx, VM_BI_IAE, "net.connect: port out of range", ret);
	struct vm_handle *c = new_handle(ctx);
	if (!c)
		return VM_BI_OOM + 1;
	plat_sock *s;
	int e = plat_sock_connect(host->bytes, (uint16_t)vm_fix_val(a[1]), &s, VM_CONNECT_NS);
	if (e)
		return throw_err(ctx, "net.connect", e, ret);
	if (bind_sock(ctx, c, s, VM_HK_CONN) < 0)
		return VM_BI_OOM + 1;
	*ret = vm_ref(c);
	return 0;
}

/* net.read(conn, max) -> a String of 1..max bytes, or null at end of
 * stream; blocks the thread while nothing has arrived. */
int vm_n_net_read(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	int rc;
	if (no_net(ctx, &rc, ret))
		return rc;
	if (!vm_is_fix(a[1]) || vm_fix_val(a[1]) <= 0)
		return throw_msg(ctx, VM_BI_IAE, "net.read: max must be positive", ret);
	size_t max = vm_fix_val(a[1]) > VM_READ_MAX ? VM_READ_MAX : (size_t)vm_fix_val(a[1]);
	plat_sock *s = sock_of(ctx, a[0], VM_HK_CONN, &rc, ret);
	if (!s)
		return rc;
	struct vm_io_slot *sl = &ctx->io->slots[((struct vm_handle *)vm_ptr(a[0]))->slot];
	if (!sl->pending) {
		/* Bytes leave the platform only into pending, so an allocation
		 * failure below loses nothing: the next read delivers them. */
		uint8_t buf[4096];
		long n = plat_sock_recv(s, buf, max < sizeof buf ? max : sizeof buf, 0);
		if (n == -ERR_TIMEDOUT || n == -ERR_AGAIN)
			return vm_block(ctx, VM_BK_SOCKET, a[0], VM_IO_POLL_NS);
		if (n == 0) {
			*ret = VM_NULL;
			return 0;
		}
		if (n < 0)
			return throw_err(ctx, "net.read", (int)n, ret);
		sl->pending = malloc((size_t)n);
		if (!sl->pending)
			return VM_BI_OOM + 1;
		memcpy(sl->pending, buf, (size_t)n);
		sl->npending = (size_t)n;
	}
	size_t n = sl->npending < max ? sl->npending : max;
	struct vm_string *str = vm_new_string(ctx, (const char *)sl->pending, n);
	if (!str)
		return VM_BI_OOM + 1;
	/* The collection above cannot touch the C table: sl is still valid. */
	memmove(sl->pending, sl->pending + n, sl->npending - n);
	sl->npending -= n;
	if (!sl->npending) {
		free(sl->pending);
		sl->pending = NULL;
	}
	*ret = vm_ref(str);
	return 0;
}

/* net.write(conn, string): sends all of it, or hands it to the output hook
 * (output commit: sent once the epoch it was written in commits). */
int vm_n_net_write(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	int rc;
	if (no_net(ctx, &rc, ret))
		return rc;
	struct vm_string *str = as_string(a[1]);
	if (!str)
		return (a[1] ? VM_BI_CCE : VM_BI_NPE) + 1;
	plat_sock *s = sock_of(ctx, a[0], VM_HK_CONN, &rc, ret);
	if (!s)
		return rc;
	int e = ctx->net_out ? ctx->net_out(ctx->net_out_arg, s, str->bytes, str->len)
			     : plat_sock_send(s, str->bytes, str->len);
	if (e)
		return throw_err(ctx, "net.write", e, ret);
	return 0;
}

/* net.close(sock): idempotent; a handle of an older boot is just marked. */
int vm_n_net_close(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ret;
	if (!vm_is_ref(a[0]) || ((struct vm_obj *)vm_ptr(a[0]))->cls->kind != VM_K_HANDLE)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	struct vm_handle *h = vm_ptr(a[0]);
	if (!h->closed && h->gen == (uint32_t)ctx->root->boot_gen && ctx->io)
		slot_close(ctx, ctx->io, h->slot);
	h->closed = 1;
	return 0;
}

/* net.port(sock) -> the local port of a listener (useful after port 0). */
int vm_n_net_port(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	if (!vm_is_ref(a[0]) || ((struct vm_obj *)vm_ptr(a[0]))->cls->kind != VM_K_HANDLE)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = vm_int((int32_t)((struct vm_handle *)vm_ptr(a[0]))->port);
	return 0;
}
