/* bench_report.h — how every benchmark part reports: collect metrics (each
 * optionally with a peer measured in the same run), then bench_finish() writes
 * build/bench/PART.json and prints a readable table. Benchmarks never fail a
 * build for being slow; they exit non-zero only when they could not measure. */
#ifndef PHANTOM_BENCH_REPORT_H
#define PHANTOM_BENCH_REPORT_H

#include <stdint.h>

/* Start a part; out_dir is usually "build/bench". */
void bench_begin(const char *part, const char *out_dir);

/* A metric with no peer. */
void bench_metric(const char *name, double value, const char *unit);

/* A metric and the same quantity measured on a peer in this run. */
void bench_metric_peer(const char *name, double value, const char *unit,
		       const char *peer, double peer_value);

/* Write the JSON and print the table; returns 0 or -1 if the file failed. */
int bench_finish(void);

/* The median of v[0..n) (n > 0); sorts v. Benchmarks that repeat a noisy
 * measurement report it, so one disturbed round does not move the result. */
double bench_median(double *v, int n);

/* Monotonic wall clock in nanoseconds, for the benchmarks' own timing. */
uint64_t bench_now_ns(void);

#endif
