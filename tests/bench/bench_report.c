/* bench_report.c — writes a benchmark part's metrics as JSON
 * (a list of {name, value, unit[, peer, peer_value]}) and as a table. */
#include "bench_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct metric {
	char name[96];
	double value;
	char unit[24];
	char peer[64];
	double peer_value;
	int has_peer;
};

static char part_[64];
static char dir_[256];
static struct metric metrics_[256];
static int nmetrics_;

void bench_begin(const char *part, const char *out_dir)
{
	snprintf(part_, sizeof part_, "%s", part);
	snprintf(dir_, sizeof dir_, "%s", out_dir);
	nmetrics_ = 0;
}

static struct metric *add(const char *name, double value, const char *unit)
{
	if (nmetrics_ == (int)(sizeof metrics_ / sizeof metrics_[0])) {
		fprintf(stderr, "bench: too many metrics\n");
		exit(2);
	}
	struct metric *m = &metrics_[nmetrics_++];
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", name);
	snprintf(m->unit, sizeof m->unit, "%s", unit);
	m->value = value;
	return m;
}

void bench_metric(const char *name, double value, const char *unit)
{
	add(name, value, unit);
}

void bench_metric_peer(const char *name, double value, const char *unit,
		       const char *peer, double peer_value)
{
	struct metric *m = add(name, value, unit);
	snprintf(m->peer, sizeof m->peer, "%s", peer);
	m->peer_value = peer_value;
	m->has_peer = 1;
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int bench_finish(void)
{
	char path[400];
	mkdir(dir_, 0755);
	snprintf(path, sizeof path, "%s/%s.json", dir_, part_);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	fputs("[\n", f);
	for (int i = 0; i < nmetrics_; i++) {
		struct metric *m = &metrics_[i];
		fputs("  {\"name\": ", f);
		json_string(f, m->name);
		fprintf(f, ", \"value\": %.6g, \"unit\": ", m->value);
		json_string(f, m->unit);
		if (m->has_peer) {
			fputs(", \"peer\": ", f);
			json_string(f, m->peer);
			fprintf(f, ", \"peer_value\": %.6g", m->peer_value);
		}
		fprintf(f, "}%s\n", i + 1 < nmetrics_ ? "," : "");
	}
	fputs("]\n", f);
	if (fclose(f) != 0) {
		perror(path);
		return -1;
	}

	printf("\n== bench %s (%s)\n", part_, path);
	printf("%-44s %14s %-8s %-22s %14s %8s\n", "metric", "value", "unit",
	       "peer", "peer value", "ratio");
	for (int i = 0; i < nmetrics_; i++) {
		struct metric *m = &metrics_[i];
		printf("%-44s %14.4g %-8s", m->name, m->value, m->unit);
		if (m->has_peer) {
			printf(" %-22s %14.4g", m->peer, m->peer_value);
			if (m->peer_value != 0)
				printf(" %8.3f", m->value / m->peer_value);
		}
		putchar('\n');
	}
	return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_dbl);
	return v[n / 2];
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
