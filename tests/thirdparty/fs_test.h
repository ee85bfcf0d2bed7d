/* fs_test.h — shared by the freestanding link tests (fs_*.c): each defines
 * fs_main(), prints "PASS: prog/name" or "FAIL: prog/name: why" lines with
 * the kernel libc's printf, and returns the number of failures. */
#ifndef PHANTOM_FS_TEST_H
#define PHANTOM_FS_TEST_H

#include <stddef.h>
#include <stdio.h>

int fs_main(void);
int fs_getrandom(void *buf, size_t len);

#define FS_RESULT(prog, name, ok, ...)                              \
	do {                                                        \
		if (ok) {                                           \
			printf("PASS: %s/%s\n", prog, name);        \
		} else {                                            \
			printf("FAIL: %s/%s: ", prog, name);        \
			printf(__VA_ARGS__);                        \
			printf("\n");                               \
			failures++;                                 \
		}                                                   \
	} while (0)

#endif
