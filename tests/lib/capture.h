/* capture.h — helpers for tests and benches that run VM programs: collect
 * the VM's output in a growable, always NUL-terminated buffer, and read a
 * whole file. Header-only. */
#ifndef PHANTOM_TEST_CAPTURE_H
#define PHANTOM_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct capture {
	char *buf;                   /* NULL until the first byte */
	size_t n, cap;
};

/* A vm_set_output sink: appends s[0..n). */
static __attribute__((unused)) void capture_out(void *arg, const char *s, size_t n)
{
	struct capture *c = arg;
	if (c->n + n + 1 > c->cap) {
		c->cap = (c->n + n + 1) * 2;
		c->buf = realloc(c->buf, c->cap);
	}
	memcpy(c->buf + c->n, s, n);
	c->n += n;
	c->buf[c->n] = 0;
}

/* What was captured so far, "" when nothing. */
static __attribute__((unused)) const char *capture_str(const struct capture *c)
{
	return c->buf ? c->buf : "";
}

static __attribute__((unused)) void capture_reset(struct capture *c)
{
	free(c->buf);
	*c = (struct capture){ 0 };
}

/* The whole file, NUL-terminated (*len without the NUL), or NULL. */
static __attribute__((unused)) char *read_whole_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (b != NULL) {
		*len = fread(b, 1, (size_t)n, f);
		b[*len] = 0;
	}
	fclose(f);
	return b;
}

#endif
