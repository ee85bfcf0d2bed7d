/* phantomd.c — the hosted Phantom node: opens (or creates) a disk image, maps
 * its arena and runs the node's app on persistent memory, snapshotting every
 * interval and once more on SIGINT/SIGTERM. Until the VM lands (vm/), the app
 * is a built-in C demo: a counter in the arena that prints "tick N" only
 * after the snapshot holding N has committed (output commit). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hosted.h"
#include "plat.h"
#include "../../../persist/image.h"
#include "../../../persist/mutator.h"

#define TICKER_MAGIC 0x50484e54494b3031ull   /* "PHNTIK01" */

/* The demo app's whole state: the first bytes of the arena. */
struct ticker {
	uint64_t magic;
	uint64_t ticks;
};

struct options {
	const char *image;
	uint64_t arena_size;
	uint64_t device_size;
	uint64_t snapshot_ms;
	uint64_t tick_ms;
	uint64_t max_ticks;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: phantomd --image PATH [options]\n"
"Runs a hosted Phantom node on the disk image PATH: creates it on first boot,\n"
"resumes from its last committed snapshot on every later boot.\n"
"\n"
"  --image PATH        the disk image (created if missing)\n"
"  --arena-size SIZE   arena size on creation, e.g. 1G (default 1G)\n"
"  --device-size SIZE  image file size on creation (default 256M)\n"
"  --snapshot-ms N     snapshot period in ms, 1..100 (default 50)\n"
"  --tick-ms N         the demo counter's period in ms (default 1000)\n"
"  --max-ticks N       stop cleanly after N ticks in this run (default: never)\n"
"  --help              this text\n"
"\n"
"SIGINT or SIGTERM: final snapshot, then exit 0. Exit 1: bad options; exit 2:\n"
"the image cannot be opened (it is left untouched); exit 3: a runtime failure.\n");
}

/* "1G", "256M", "4096": bytes, or 0 on a malformed size. */
static uint64_t parse_size(const char *s)
{
	char *end;
	errno = 0;
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
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	*o = (struct options){ .arena_size = 1ull << 30,
			       .device_size = 256ull << 20,
			       .snapshot_ms = 50, .tick_ms = 1000 };
	int c;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		uint64_t v = 0;
		if (c != 'i' && c != 'h' && c != '?' &&
		    (v = parse_size(optarg)) == 0) {
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
	if (o->arena_size % PLAT_PAGE_SIZE || o->arena_size > PLAT_ARENA_MAX) {
		fprintf(stderr, "phantomd: --arena-size must be a multiple of 4K "
			"and at most 1T\n");
		return -1;
	}
	return 0;
}

/* Sleeps about ms while counting as parked, so snapshots are not held up. */
static void idle(struct pst_mutator *m, uint64_t ms)
{
	uint64_t until = plat_monotonic_ns() + ms * 1000000ull;
	pst_mut_block(m);
	while (!stop_requested && plat_monotonic_ns() < until)
		plat_sleep_ns(5000000);
	pst_mut_unblock(m);
}

static int run_ticker(struct pst_image *img, struct pst_mutator *m,
		      const struct options *o)
{
	struct ticker *t = pst_image_base(img);
	if (t->magic != TICKER_MAGIC) {
		t->magic = TICKER_MAGIC;
		t->ticks = 0;
	}
	for (uint64_t n = 0; !stop_requested && (!o->max_ticks || n < o->max_ticks);
	     n++) {
		idle(m, o->tick_ms);
		if (stop_requested)
			break;
		pst_mut_poll(m);
		uint64_t now = ++t->ticks;
		/* Output commit: say "tick N" only once N is durable. */
		uint64_t epoch;
		pst_mut_block(m);
		int rc = pst_image_sync(img, 60000000000ull, &epoch);
		pst_mut_unblock(m);
		if (rc < 0) {
			fprintf(stderr, "phantomd: snapshot failed: %s\n", err_str(rc));
			return rc;
		}
		printf("tick %llu (epoch %llu)\n", (unsigned long long)now,
		       (unsigned long long)epoch);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_options(argc, argv, &o) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
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

	struct pst_mut_registry *reg;
	struct pst_mutator *m;
	if (pst_mut_registry_new(&reg) < 0 || pst_mut_register(reg, &m) < 0) {
		fprintf(stderr, "phantomd: cannot set up mutators\n");
		return 3;
	}
	struct pst_image_config cfg = {
		.blk = blk,
		.arena_size = o.arena_size,
		.world = pst_mut_world(reg),
		.interval_ns = o.snapshot_ms * 1000000ull,
	};
	struct pst_image *img;
	char why[256];
	rc = fresh ? pst_image_create(&cfg, &img, why, sizeof why)
		   : pst_image_open(&cfg, &img, why, sizeof why);
	if (rc < 0) {
		fprintf(stderr, "phantomd: cannot %s image %s: %s\n",
			fresh ? "create" : "open", o.image, why[0] ? why : err_str(rc));
		plat_blk_close(blk);
		if (fresh)
			remove(o.image);
		return 2;
	}
	printf("phantomd: %s image %s at epoch %llu (arena %llu MiB at 0x%llx)\n",
	       fresh ? "created" : "resumed", o.image,
	       (unsigned long long)pst_snap_committed_epoch(pst_image_snap(img)),
	       (unsigned long long)(pst_image_size(img) >> 20),
	       (unsigned long long)PLAT_ARENA_BASE);
	printf("phantomd: the VM is not built yet; running the built-in demo "
	       "(a persistent counter)\n");

	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = run_ticker(img, m, &o);
	pst_mut_block(m);
	int crc = pst_image_close(img, true);
	pst_mut_unblock(m);
	pst_mut_unregister(m);
	pst_mut_registry_free(reg);
	plat_blk_close(blk);
	if (rc < 0 || crc < 0) {
		fprintf(stderr, "phantomd: stopped with an error: %s\n",
			err_str(rc < 0 ? rc : crc));
		return 3;
	}
	printf("phantomd: stopped cleanly after a final snapshot\n");
	return 0;
}
