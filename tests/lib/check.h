/* check.h — the unit-test harness every C test in tests/ uses. A test program
 * defines TEST(name) functions and runs them with RUN(name) from main(); each
 * prints one line "PASS: prog/name" or "FAIL: prog/name: why" that tests/run.sh
 * counts, and check_done() makes the exit status non-zero on any failure. */
#ifndef PHANTOM_CHECK_H
#define PHANTOM_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *check_prog_ = "test";
static int check_failed_now_;
static int check_failures_;
static char check_why_[512];

#define TEST(name) static void name(void)

/* Record a failure and leave the current test. */
#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			snprintf(check_why_, sizeof check_why_,             \
				 "%s:%d: CHECK(%s)", __FILE__, __LINE__, #cond); \
			check_failed_now_ = 1;                              \
			return;                                             \
		}                                                           \
	} while (0)

/* Like CHECK, with a printf-style explanation. */
#define CHECKF(cond, ...)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			int n_ = snprintf(check_why_, sizeof check_why_,    \
					  "%s:%d: ", __FILE__, __LINE__);   \
			snprintf(check_why_ + n_, sizeof check_why_ - n_,   \
				 __VA_ARGS__);                              \
			check_failed_now_ = 1;                              \
			return;                                             \
		}                                                           \
	} while (0)

/* Compare two integers (each evaluated once), showing both on failure. */
#define CHECK_EQ(a, b)                                                      \
	do {                                                                \
		long long ca_ = (long long)(a), cb_ = (long long)(b);       \
		CHECKF(ca_ == cb_, "%s == %s: %lld != %lld", #a, #b, ca_,   \
		       cb_);                                                \
	} while (0)

#define RUN(name)                                                           \
	do {                                                                \
		check_failed_now_ = 0;                                      \
		check_why_[0] = 0;                                          \
		name();                                                     \
		if (check_failed_now_) {                                    \
			check_failures_++;                                  \
			printf("FAIL: %s/%s: %s\n", check_prog_, #name,     \
			       check_why_);                                 \
		} else {                                                    \
			printf("PASS: %s/%s\n", check_prog_, #name);        \
		}                                                           \
		fflush(stdout);                                             \
	} while (0)

static inline void check_begin(const char *prog) { check_prog_ = prog; }
static inline int check_done(void) { return check_failures_ ? 1 : 0; }

#endif
