/* phantomd.c — the hosted Phantom node: options, signals and exit codes
 * around the node runtime (replication/node.h), which boots the VM from the
 * disk image (first boot: the default apps, vm/apps/NAME.pasm: the ticker, the
 * object shell on stdin and the key-value service — embedded by
 * deploy/node.mk), snapshots it every interval and holds its console output
 * until the epoch behind it has committed. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"
#include "plat.h"
#include "../../../replication/node.h"

#include "../../../replication/default_app.h"

#define APP_PERIOD_MS   1000ll         /* the ticker's period as assembled */
#define APP_KV_PORT     7070ll         /* the KV service's port as assembled */
#define SHUTDOWN_NS     (60ull * 1000000000ull)

struct options {
	const char *image;
	uint64_t arena_size;
	uint64_t device_size;
	uint64_t snapshot_ms;
	uint64_t tick_ms;
	uint64_t max_ticks;
	uint64_t kv_port;
	bool no_output_commit;
	bool create_only;
};

#define PHANTOMD_FINAL_SYNC_NS (600ull * 1000000000ull)   /* 10 min */

static struct node *the_node;
static uint64_t ticks_seen, max_ticks;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (the_node)
		node_stop(the_node);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: phantomd --image PATH [options]\n"
"Runs a hosted Phantom node on the disk image PATH: on first boot it creates\n"
"the image and loads the default app (a persistent counter printing\n"
"\"tick N\"); every later boot resumes each VM thread from the last\n"
"committed snapshot.\n"
"\n"
"  --image PATH        the disk image (created if missing)\n"
"  --arena-size SIZE   arena size on creation, e.g. 256M (default 256M)\n"
"  --device-size SIZE  image file size on creation (default 256M)\n"
"  --snapshot-ms N     snapshot period in ms, 1..100 (default 50)\n"
"  --no-output-commit  write the VM's output at once instead of holding it\n"
"                      until the snapshot behind it has committed (faster\n"
"                      for interactive use; output may be taken back by a\n"
"                      crash). Default: output commit on.\n"
"  --tick-ms N         the default app's period in ms, fixed when the image\n"
"                      is created (default 1000)\n"
"  --kv-port N        the key-value service's TCP port, fixed when the image\n"
"                      is created (default 7070; 0: no service)\n"
"  --max-ticks N       stop cleanly once N \"tick\" lines were printed in\n"
"                      this run (for tests; default: never)\n"
"  --create-only       create the image with the default app, commit, exit\n"
"The object shell reads commands (help, ls, new, set, get, show, rm) from\n"
"stdin.\n"
"  --help              this text\n"
"\n"
"SIGINT or SIGTERM: final snapshot, then exit 0. Exit 1: bad options; exit 2:\n"
"the image cannot be opened (missing device, not an image, an incompatible\n"
"version: it is left untouched); exit 3: a runtime failure (also a page the\n"
"image cannot deliver, a damaged block: the image stays as last committed).\n");
}

/* "1G", "256M", "4096": bytes, or 0 on a malformed size. */
static uint64_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	if (*s == '-')
		return 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	uint64_t mul = 1;
	switch (*end) {
	case 'K': case 'k': mul = 1ull << 10; end++; break;
	case 'M': case 'm': mul = 1ull << 20; end++; break;
	case 'G': case 'g': mul = 1ull << 30; end++; break;
	case 0: break;
	default: return 0;
	}
	if (*end != 0 || v > UINT64_MAX / mul)
		return 0;
	return v * mul;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "image", required_argument, 0, 'i' },
		{ "arena-size", required_argument, 0, 'a' },
		{ "device-size", required_argument, 0, 'd' },
		{ "snapshot-ms", required_argument, 0, 's' },
		{ "tick-ms", required_argument, 0, 't' },
		{ "max-ticks", required_argument, 0, 'm' },
		{ "kv-port", required_argument, 0, 'k' },
		{ "no-output-commit", no_argument, 0, 'n' },
		{ "create-only", no_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	*o = (struct options){ .arena_size = 256ull << 20,
			       .device_size = 256ull << 20,
			       .snapshot_ms = 50, .tick_ms = 1000,
			       .kv_port = APP_KV_PORT };
	int c;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		uint64_t v = 0;
		bool takes_number = c == 'a' || c == 'd' || c == 's' || c == 't' || c == 'm';
		if (c == 'k') {
			/* 0 is valid here: parse_size's 0 means malformed */
			char *end;
			errno = 0;
			unsigned long p = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    p > 65535) {
				fprintf(stderr, "phantomd: bad value '%s' for "
					"--kv-port (0..65535)\n", optarg);
				return -1;
			}
			o->kv_port = p;
			continue;
		}
		if (takes_number && (v = parse_size(optarg)) == 0) {
			const char *name = "?";
			for (const struct option *l = longs; l->name; l++)
				if (l->val == c)
					name = l->name;
			fprintf(stderr, "phantomd: bad value '%s' for --%s\n",
				optarg, name);
			return -1;
		}
		switch (c) {
		case 'i': o->image = optarg; break;
		case 'a': o->arena_size = v; break;
		case 'd': o->device_size = v; break;
		case 's': o->snapshot_ms = v; break;
		case 't': o->tick_ms = v; break;
		case 'm': o->max_ticks = v; break;
		case 'n': o->no_output_commit = true; break;
		case 'c': o->create_only = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "phantomd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->image == NULL) {
		fprintf(stderr, "phantomd: --image PATH is required (see --help)\n");
		return -1;
	}
	if (o->snapshot_ms > 100) {
		fprintf(stderr, "phantomd: --snapshot-ms must be 1..100\n");
		return -1;
	}
	if (o->tick_ms > 3600000) {
		fprintf(stderr, "phantomd: --tick-ms must be 1..3600000\n");
		return -1;
	}
	if (o->arena_size % PLAT_PAGE_SIZE || o->arena_size > PLAT_ARENA_MAX) {
		fprintf(stderr, "phantomd: --arena-size must be a multiple of 4K "
			"and at most 1T\n");
		return -1;
	}
	if (o->device_size % PLAT_SECTOR_SIZE) {
		fprintf(stderr, "phantomd: --device-size must be a multiple of 512\n");
		return -1;
	}
	return 0;
}

/* ---- the default app's class files, with the period set ------------------ */

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void long_const(uint8_t out[9], int64_t v)
{
	out[0] = 2;                      /* LONG tag, then le64 */
	for (int k = 0; k < 8; k++)
		out[1 + k] = (uint8_t)((uint64_t)v >> (8 * k));
}

/* A copy of the app's classes whose LONG constants APP_PERIOD_MS and
 * APP_KV_PORT become period_ms and kv_port, with the class file's CRC redone
 * (classfile.h). The ticker holds the first exactly once, the KV service
 * the second; *patched counts both. */
static struct node_class *app_classes(int64_t period_ms, int64_t kv_port,
				      size_t *n, unsigned *patched)
{
	*patched = 0;
	*n = node_app_nclasses;
	if (node_app_nclasses == 0)
		return NULL;
	struct node_class *out = calloc(node_app_nclasses, sizeof *out);
	for (size_t i = 0; out && i < node_app_nclasses; i++) {
		const struct node_class *c = &node_app_classes[i];
		uint8_t *b = malloc(c->len);
		if (b == NULL)
			return NULL;
		memcpy(b, c->data, c->len);
		uint8_t pat[2][9], rep[2][9];
		long_const(pat[0], APP_PERIOD_MS);
		long_const(rep[0], period_ms);
		long_const(pat[1], APP_KV_PORT);
		long_const(rep[1], kv_port);
		/* One pass over the original bytes: a value just written is
		 * skipped, never matched again. */
		for (size_t off = 16; off + 9 <= c->len; off++)
			for (int p = 0; p < 2; p++)
				if (memcmp(b + off, pat[p], 9) == 0) {
					memcpy(b + off, rep[p], 9);
					(*patched)++;
					off += 8;
					break;
				}
		if (c->len >= 16) {
			uint32_t crc = crc32_ieee(b + 16, c->len - 16);
			for (int k = 0; k < 4; k++)
				b[12 + k] = (uint8_t)(crc >> (8 * k));
		}
		out[i] = (struct node_class){ c->name, b, c->len };
	}
	return out;
}

/* ---- released output: the console, counting ticks ----------------------- */

static void console_out(void *ctx, const char *s, size_t len)
{
	(void)ctx;
	static bool line_start = true;
	for (size_t i = 0; i < len; i++) {
		if (line_start && len - i >= 5 && memcmp(s + i, "tick ", 5) == 0)
			ticks_seen++;
		line_start = s[i] == '\n';
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(1, s + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (max_ticks && ticks_seen >= max_ticks && the_node)
		node_stop(the_node);
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_options(argc, argv, &o) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	max_ticks = o.max_ticks;
	int rc = plat_hosted_init();
	if (rc < 0) {
		fprintf(stderr, "phantomd: platform init failed: %s\n", err_str(rc));
		return 3;
	}

	struct stat st;
	bool fresh = stat(o.image, &st) != 0;
	struct plat_blk *blk;
	rc = plat_blk_open(o.image, fresh ? PLAT_BLK_CREATE : 0, o.device_size, &blk);
	if (rc < 0) {
		fprintf(stderr, "phantomd: cannot open image %s: %s\n", o.image,
			err_str(rc));
		return 2;
	}
	size_t ncls;
	unsigned patched;
	struct node_class *cls = app_classes((int64_t)o.tick_ms,
					     (int64_t)o.kv_port, &ncls, &patched);
	if (fresh && ncls > 0 && patched != 2)
		fprintf(stderr, "phantomd: warning: the default apps have %u "
			"period/port constants, not 2; --tick-ms or --kv-port "
			"may not apply\n", patched);
	struct node_config cfg = {
		.blk = blk, .create = fresh, .arena_size = o.arena_size,
		.interval_ns = o.snapshot_ms * 1000000ull,
		.output_commit = !o.no_output_commit,
		.classes = cls, .nclasses = cls ? ncls : 0,
		.entry_class = "Ticker", .entry_method = "main",
		.console = console_out, .console_poll = true,
	};
	char why[256];
	struct node *n;
	rc = node_boot(&cfg, &n, why, sizeof why);
	if (rc < 0) {
		fprintf(stderr, "phantomd: cannot %s image %s: %s\n",
			fresh ? "create" : "open", o.image, why[0] ? why : err_str(rc));
		plat_blk_close(blk);
		if (fresh)
			remove(o.image);
		return 2;
	}
	printf("phantomd: %s image %s at epoch %llu (%s, snapshot every %llu ms, "
	       "output commit %s)\n",
	       fresh ? "created" : "resumed", o.image,
	       (unsigned long long)node_boot_epoch(n),
	       node_first_boot(n) ? "first boot: default app loaded"
				  : "VM threads resumed",
	       (unsigned long long)o.snapshot_ms,
	       o.no_output_commit ? "off" : "on");
	if (o.create_only) {
		rc = node_shutdown(n, true);
		plat_blk_close(blk);
		if (rc < 0) {
			fprintf(stderr, "phantomd: cannot commit %s: %s\n", o.image,
				err_str(rc));
			return 3;
		}
		return 0;
	}

	the_node = n;
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct node_run_result res;
	rc = node_run(n, &res);
	if (res.failed)
		fprintf(stderr, "phantomd: %u VM thread(s) failed: %s\n", res.failed,
			res.err);
	if (res.finished)
		printf("phantomd: every VM thread has ended\n");
	the_node = NULL;                 /* signals from now on: default-free */
	uint64_t epoch = 0;
	int frc = node_final_sync(n, PHANTOMD_FINAL_SYNC_NS, &epoch);
	int crc = node_shutdown(n, false);
	plat_blk_close(blk);
	if (rc < 0 || frc < 0 || crc < 0) {
		fprintf(stderr, "phantomd: stopped with an error: %s\n",
			err_str(rc < 0 ? rc : frc < 0 ? frc : crc));
		return 3;
	}
	printf("phantomd: stopped cleanly after a final snapshot (epoch %llu)\n",
	       (unsigned long long)epoch);
	return 0;
}
