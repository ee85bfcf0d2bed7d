/* plat.c — installs the active platform and builds the boundary's small
 * conveniences (formatted console output, panic, error messages) on top of its
 * ops table. Compiled into both the hosted and the bare-metal build. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "plat.h"

const struct plat_ops *plat_active;

int plat_install(const struct plat_ops *ops)
{
	if (ops == NULL || ops->version != PLAT_ABI_VERSION)
		return -ERR_VERSION;
	plat_active = ops;
	return 0;
}

static const char *const err_messages[] = {
#define ERR_MSG_(name, msg) [ERR_##name] = msg,
	ERR_TABLE(ERR_MSG_)
#undef ERR_MSG_
};

const char *err_str(int code)
{
	if (code < 0)
		code = code == INT_MIN ? ERR_COUNT_ : -code;
	if (code >= ERR_COUNT_)
		return "unknown error";
	return err_messages[code];
}

static void vprint(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	plat_console_write(buf, (size_t)n);
}

void plat_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

void plat_panic(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!plat_active) {            /* portable code run without a platform (tests) */
		fprintf(stderr, "panic: %s\n", buf);
		abort();
	}
	plat_active->halt(buf);
}
