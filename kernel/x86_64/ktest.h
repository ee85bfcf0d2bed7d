/* ktest.h — in-kernel tests selected by test=NAME on the command line. Each
 * prints "KTEST PASS: NAME/what" or "KTEST FAIL: NAME/what: why" lines (the
 * tests/qemu scripts turn them into PASS:/FAIL:) and ends with kexit. */
#ifndef X86_KTEST_H
#define X86_KTEST_H

#include <stdbool.h>

/* Runs the named test; returns only if no test has that name. */
void ktest_run(const char *name);

/* For the test files: one check's result, and the end of the test. */
void kt_check(bool ok, const char *what, const char *why);
#define KT_CHECK(cond, what) kt_check((cond), (what), #cond)
void kt_finish(void) __attribute__((noreturn));

/* ktest_arena.c */
void ktest_arena(void);

/* ktest_persist.c */
void ktest_persist(void);

/* ktest_image.c */
void ktest_image(void);

/* ktest_threads.c */
void ktest_threads(void);
void ktest_stackoverflow(void);

#endif
