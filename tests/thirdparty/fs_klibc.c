/* fs_klibc.c — runs the kernel libc itself, freestanding: formatting, the
 * heap (alignment, realloc, coalescing back to one block), strings,
 * number parsing and qsort. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs_test.h"
#include "klibc.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int fs_main(void)
{
	int failures = 0;
	char buf[128];
	struct klibc_heap_stats before, after;

	snprintf(buf, sizeof buf, "%d|%5u|%-4x|%08lx|%s|%.2s|%c|%lld|%zu|%%|%+d|%#x",
		 -42, 7u, 0xabu, 0xdeadbeefUL, "str", "xyz", 'q', -1234567890123LL,
		 (size_t)99, 5, 255);
	FS_RESULT("fs_klibc", "snprintf_formats",
		  strcmp(buf, "-42|    7|ab  |deadbeef|str|xy|q|-1234567890123|99|%|+5|0xff") == 0,
		  "got '%s'", buf);
	FS_RESULT("fs_klibc", "snprintf_truncates",
		  snprintf(buf, 5, "%s", "abcdefgh") == 8 && strcmp(buf, "abcd") == 0,
		  "got '%s'", buf);

	klibc_heap_stats(&before);
	{
		void *p[64];
		int ok = 1;
		for (int i = 0; i < 64; i++) {
			size_t al = (size_t)16 << (i % 8);
			p[i] = i % 2 ? aligned_alloc(al, 100 + (size_t)i * 37) : malloc((size_t)i * 1000);
			if (!p[i] || (i % 2 && ((uintptr_t)p[i] & (al - 1))))
				ok = 0;
			else
				memset(p[i], i, i % 2 ? 100 + (size_t)i * 37 : (size_t)i * 1000);
		}
		for (int i = 0; i < 64 && ok; i++) /* no block overlaps another */
			for (size_t j = 0; j < (i % 2 ? 100 + (size_t)i * 37 : (size_t)i * 1000); j++)
				if (((unsigned char *)p[i])[j] != i)
					ok = 0;
		char *r = malloc(10);
		memcpy(r, "0123456789", 10);
		r = realloc(r, 100000);
		ok = ok && r && memcmp(r, "0123456789", 10) == 0;
		free(r);
		for (int i = 63; i >= 0; i -= 2)
			free(p[i]);
		for (int i = 0; i < 64; i += 2)
			free(p[i]);
		klibc_heap_stats(&after);
		FS_RESULT("fs_klibc", "heap_alloc_free_coalesce",
			  ok && after.free == before.free && after.free_blocks == 1,
			  "ok=%d free %zu->%zu blocks %zu", ok, before.free, after.free,
			  after.free_blocks);
	}
	FS_RESULT("fs_klibc", "heap_exhaustion_is_null",
		  malloc(1ul << 40) == NULL && calloc(1ul << 40, 1ul << 40) == NULL,
		  "huge allocation succeeded");
	{
		char *e;
		long v = strtol("  -0x1F zz", &e, 0);
		FS_RESULT("fs_klibc", "strtol", v == -31 && *e == ' ' && atoi("123") == 123 &&
			  strtoul("777", NULL, 8) == 511, "v=%ld", v);
	}
	{
		char m[16] = "abcdefghij";
		memmove(m + 2, m, 8);
		int a[9] = { 5, 3, 9, 1, 7, 2, 8, 6, 4 }, sorted = 1;
		qsort(a, 9, sizeof a[0], cmp_int);
		for (int i = 0; i < 9; i++)
			sorted &= a[i] == i + 1;
		FS_RESULT("fs_klibc", "memmove_qsort_strings",
			  memcmp(m, "ababcdefgh", 10) == 0 && sorted &&
			  strncmp("abc", "abd", 2) == 0 && strcmp("abc", "abd") < 0 &&
			  strchr("hello", 'l') && strstr("hello world", "o w") &&
			  strlen("four") == 4, "m='%.10s'", m);
	}
	return failures;
}
