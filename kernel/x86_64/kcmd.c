/* kcmd.c — command-line storage and lookup. The line is copied out of the
 * boot information (which lives in memory the frame allocator will reuse)
 * and split in place into (key, value) pairs. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "console.h"
#include "kcmd.h"

static char kcmd_orig[KCMD_MAX_LEN];
static char kcmd_buf[KCMD_MAX_LEN];
static const char *kcmd_keys[KCMD_MAX_ARGS];
static const char *kcmd_vals[KCMD_MAX_ARGS];
static unsigned kcmd_n;

void kcmd_parse(const char *s)
{
	size_t n = 0;
	kcmd_n = 0;
	if (s != NULL)
		while (s[n] != '\0' && n + 1 < KCMD_MAX_LEN)
			n++;
	if (s != NULL && s[n] != '\0')
		kprintf("kcmd: command line cut at %u bytes\n", KCMD_MAX_LEN - 1);
	memcpy(kcmd_orig, s ? s : "", n);
	kcmd_orig[n] = '\0';
	memcpy(kcmd_buf, kcmd_orig, n + 1);

	char *p = kcmd_buf;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (kcmd_n == KCMD_MAX_ARGS) {
			kprintf("kcmd: more than %u words; rest ignored\n", KCMD_MAX_ARGS);
			break;
		}
		char *key = p, *val = NULL;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			if (*p == '=' && val == NULL) {
				*p = '\0';
				val = p + 1;
			}
			p++;
		}
		kcmd_keys[kcmd_n] = key;
		kcmd_vals[kcmd_n] = val ? val : p;   /* p: an empty string soon */
		kcmd_n++;
	}
}

const char *kcmd_line(void)
{
	return kcmd_orig;
}

const char *kcmd_get(const char *key)
{
	for (unsigned i = kcmd_n; i-- > 0;)
		if (strcmp(kcmd_keys[i], key) == 0)
			return kcmd_vals[i];
	return NULL;
}

uint64_t kcmd_get_u64(const char *key, uint64_t def)
{
	const char *v = kcmd_get(key);
	if (v == NULL || *v == '\0')
		return def;
	uint64_t n = 0;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (UINT64_MAX - 9) / 10)
			return def;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	return n;
}
