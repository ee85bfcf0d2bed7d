/* native.c — the table of internal functions reached by INVOKENATIVE (by
 * name, resolved when a class loads), and the small ones: console output,
 * time, string helpers. Each is restartable: it runs with its arguments
 * still on the caller's stack and the pc still on the call, so a native that
 * could not finish (VM_NAT_BLOCK) is simply re-run, after a wake-up or a
 * restore. Threads: nat_thread.c; root directory: nat_root.c; console input
 * and sockets: io.c. */
#include <string.h>

#include "plat.h"
#include "internal.h"

static struct vm_string *as_string(vm_value v)
{
	if (!vm_is_ref(v))
		return NULL;
	struct vm_obj *o = vm_ptr(v);
	return o->cls->kind == VM_K_STRING ? (struct vm_string *)o : NULL;
}

/* console.write(x): the string form of x, no newline. */
static int n_console_write(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ret;
	char buf[96];
	struct vm_string *s = as_string(a[0]);
	if (s)
		vm_write(ctx, s->bytes, s->len);
	else
		vm_write(ctx, buf, vm_format_value(a[0], buf, sizeof buf));
	return 0;
}

static int n_time_nanos(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)a;
	/* A VM with no platform installed (unit tests, the fuzzer) has no clock. */
	*ret = vm_make_long(ctx, plat_active ? (int64_t)plat_monotonic_ns() : 0);
	return *ret ? 0 : VM_BI_OOM + 1;
}

static int n_string_length(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	struct vm_string *s = as_string(a[0]);
	if (!s)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = vm_int((int32_t)s->len);
	return 0;
}

static int n_string_char_at(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	struct vm_string *s = as_string(a[0]);
	if (!s)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	if (!vm_is_fix(a[1]) || vm_fix_val(a[1]) < 0 || vm_fix_val(a[1]) >= s->len)
		return VM_BI_AIOOBE + 1;
	*ret = vm_int((uint8_t)s->bytes[vm_fix_val(a[1])]);
	return 0;
}

static int n_string_equals(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	struct vm_string *x = as_string(a[0]), *y = as_string(a[1]);
	if (!x)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = vm_int(y && x->len == y->len && memcmp(x->bytes, y->bytes, x->len) == 0);
	return 0;
}

static int n_string_hash(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)ctx;
	struct vm_string *s = as_string(a[0]);
	if (!s)
		return (a[0] ? VM_BI_CCE : VM_BI_NPE) + 1;
	*ret = vm_int((int32_t)vm_str_hash(s));
	return 0;
}

/* time.wallMillis() -> wall-clock ms since the epoch (0 with no platform). */
static int n_time_wall_millis(struct vm_ctx *ctx, vm_value *a, vm_value *ret)
{
	(void)a;
	*ret = vm_make_long(ctx, (int64_t)(vm_now_ns(ctx) / 1000000u));
	return *ret ? 0 : VM_BI_OOM + 1;
}

int vm_n_thread_start(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_thread_start0(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_thread_current(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_thread_sleep(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_thread_yield(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_thread_join(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_object_wait(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_object_notify(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_object_notify_all(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_root_put(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_root_get(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_root_remove(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_root_list(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_console_read_line(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_net_listen(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_net_accept(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_net_connect(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_net_read(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_net_write(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_net_close(struct vm_ctx *, vm_value *, vm_value *);
int vm_n_net_port(struct vm_ctx *, vm_value *, vm_value *);

/* Append only or anywhere: class files name natives, not numbers. */
static const struct vm_native natives[] = {
	{ "console.write", 1, 0, n_console_write,
	  "x", "write the string form of x, no newline" },
	{ "time.nanos", 0, 1, n_time_nanos,
	  "", "monotonic ns as a long (0 with no platform)" },
	{ "string.length", 1, 1, n_string_length,
	  "s", "length of string s in bytes" },
	{ "string.charAt", 2, 1, n_string_char_at,
	  "s i", "byte i of string s (ArrayIndexOutOfBoundsException outside)" },
	{ "string.equals", 2, 1, n_string_equals,
	  "s t", "1 if s and t are strings with equal bytes, else 0" },
	{ "string.hash", 1, 1, n_string_hash,
	  "s", "FNV-1a hash of string s, as an int" },
	{ "time.wallMillis", 0, 1, n_time_wall_millis,
	  "", "wall-clock ms since the Unix epoch (a long)" },
	{ "thread.start", 2, 1, vm_n_thread_start,
	  "name arg", "start a thread at static method \"Class.m\" taking one argument, passing arg; push the Thread" },
	{ "thread.start0", 1, 1, vm_n_thread_start0,
	  "name", "start a thread at static method \"Class.m\" taking no argument; push the Thread" },
	{ "thread.current", 0, 1, vm_n_thread_current,
	  "", "push the running Thread" },
	{ "thread.sleep", 1, 0, vm_n_thread_sleep,
	  "ms", "sleep ms milliseconds of wall-clock time (a restored sleeper wakes at the same instant)" },
	{ "thread.yield", 0, 0, vm_n_thread_yield,
	  "", "give the processor to the other runnable threads" },
	{ "thread.join", 1, 1, vm_n_thread_join,
	  "t", "wait until Thread t ends; push its entry method's result (null if it failed)" },
	{ "object.wait", 1, 0, vm_n_object_wait,
	  "obj", "release obj's monitor (owned, else IllegalMonitorStateException), wait for a notify, re-acquire" },
	{ "object.notify", 1, 0, vm_n_object_notify,
	  "obj", "wake the longest waiter on obj (the monitor must be owned)" },
	{ "object.notifyAll", 1, 0, vm_n_object_notify_all,
	  "obj", "wake every waiter on obj (the monitor must be owned)" },
	{ "root.put", 2, 0, vm_n_root_put,
	  "name obj", "bind name (a string) to obj in the persistent root directory" },
	{ "root.get", 1, 1, vm_n_root_get,
	  "name", "push the object bound to name, or null" },
	{ "root.remove", 1, 1, vm_n_root_remove,
	  "name", "unbind name; push 1 if it was bound, else 0" },
	{ "root.list", 0, 1, vm_n_root_list,
	  "", "push an array of the bound names" },
	{ "console.readLine", 0, 1, vm_n_console_read_line,
	  "", "push the next input line without its newline, or null at end of input; blocks the thread" },
	{ "net.listen", 1, 1, vm_n_net_listen,
	  "port", "listen on TCP port (0: any) on all addresses; push a Socket (reopened on its port after a restart)" },
	{ "net.accept", 1, 1, vm_n_net_accept,
	  "l", "push the next connection of listener l; blocks the thread" },
	{ "net.connect", 2, 1, vm_n_net_connect,
	  "host port", "connect to host (dotted IPv4 string) and port; push a Socket" },
	{ "net.read", 2, 1, vm_n_net_read,
	  "s max", "push 1..max received bytes as a String, or null at end of stream; blocks the thread" },
	{ "net.write", 2, 0, vm_n_net_write,
	  "s str", "send all bytes of string s" },
	{ "net.close", 1, 0, vm_n_net_close,
	  "s", "close Socket s (idempotent)" },
	{ "net.port", 1, 1, vm_n_net_port,
	  "s", "push the local port of Socket s" },
};
#define NNATIVES (sizeof natives / sizeof natives[0])

int vm_native_lookup(const char *name, size_t len)
{
	for (unsigned i = 0; i < NNATIVES; i++)
		if (strlen(natives[i].name) == len && memcmp(natives[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

const struct vm_native *vm_native_get(unsigned id)
{
	return id < NNATIVES ? &natives[id] : NULL;
}
