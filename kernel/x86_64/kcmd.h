/* kcmd.h — the kernel command line: space-separated words, each key=value
 * or a bare key (iPXE puts the kernel's URI first; it is a bare word). */
#ifndef X86_KCMD_H
#define X86_KCMD_H

#include <stdint.h>

#define KCMD_MAX_LEN   1024
#define KCMD_MAX_ARGS  64

/* Copies and splits s (NULL = empty). Longer lines are cut at KCMD_MAX_LEN
 * and extra words beyond KCMD_MAX_ARGS are dropped, with a warning. */
void kcmd_parse(const char *s);
/* The original line as given. */
const char *kcmd_line(void);
/* The value of key ("" for a bare key), or NULL if absent. The last
 * occurrence wins. */
const char *kcmd_get(const char *key);
/* key's value as a decimal number, or def if absent or not a number. */
uint64_t kcmd_get_u64(const char *key, uint64_t def);

#endif
