/* crash_child.c — the mutator of the persist crash campaign. Opens (or
 * creates) an image, checks that it holds exactly the state after some whole
 * step S (replaying steps 1..S from a seed must give the same pages), prints
 * "state S epoch E", then keeps doing steps and snapshots, printing
 * "committed S epoch E" once a snapshot holding step S is durable, until it
 * is killed.
 *
 * Step s writes the value s into WRITES_PER_STEP words chosen by a PRNG seeded
 * with s, then records s in the header; steps happen between safepoints, so a
 * consistent snapshot holds a whole number of steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"
#include "plat.h"
#include "../../persist/image.h"
#include "../../persist/mutator.h"

#define MAGIC            0x43524153484b4944ull
#define DATA_PAGES       512u
#define WRITES_PER_STEP  6u
#define WORDS_PER_PAGE   (PLAT_PAGE_SIZE / 8u)

struct header {
	uint64_t magic;
	uint64_t step;
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Word index (over all data pages) of write j of step s. */
static uint64_t target(uint64_t s, uint32_t j)
{
	return mix(s * 64 + j) % ((uint64_t)DATA_PAGES * WORDS_PER_PAGE);
}

static void step(uint64_t *data, struct header *h, uint64_t s)
{
	for (uint32_t j = 0; j < WRITES_PER_STEP; j++)
		data[target(s, j)] = s;
	h->step = s;
}

/* Replays steps 1..S into a private copy and compares it with the arena. */
static int verify(const uint64_t *data, uint64_t S)
{
	size_t words = (size_t)DATA_PAGES * WORDS_PER_PAGE;
	uint64_t *model = calloc(words, sizeof *model);
	if (!model)
		return -1;
	struct header dummy;
	for (uint64_t s = 1; s <= S; s++)
		step(model, &dummy, s);
	int bad = 0;
	for (size_t w = 0; w < words; w++) {
		if (model[w] != data[w]) {
			printf("MISMATCH state %llu: word %zu (page %zu) holds %llu, "
			       "expected %llu\n", (unsigned long long)S, w,
			       w / WORDS_PER_PAGE + 1, (unsigned long long)data[w],
			       (unsigned long long)model[w]);
			bad = 1;
			break;
		}
	}
	free(model);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: crash_child IMAGE [verify-only]\n");
		return 1;
	}
	const char *path = argv[1];
	bool verify_only = argc > 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (plat_hosted_init() < 0)
		return 3;
	struct stat st;
	bool fresh = stat(path, &st) != 0;
	struct plat_blk *blk;
	if (plat_blk_open(path, fresh ? PLAT_BLK_CREATE : 0, 16u << 20, &blk) < 0) {
		printf("ERROR cannot open %s\n", path);
		return 3;
	}
	struct pst_mut_registry *reg;
	struct pst_mutator *m;
	if (pst_mut_registry_new(&reg) < 0 || pst_mut_register(reg, &m) < 0)
		return 3;
	struct pst_image_config cfg = {
		.blk = blk,
		.arena_size = 64u << 20,
		.world = pst_mut_world(reg),
		.interval_ns = verify_only ? 0 : 3000000,
		.cow_pages = 32,
	};
	struct pst_image *img;
	char why[256];
	int rc = fresh ? pst_image_create(&cfg, &img, why, sizeof why)
		       : pst_image_open(&cfg, &img, why, sizeof why);
	if (rc < 0) {
		printf("ERROR cannot open image: %s\n", why);
		return 2;
	}
	struct header *h = pst_image_base(img);
	uint64_t *data = (uint64_t *)((char *)h + PLAT_PAGE_SIZE);
	if (h->magic == 0 && h->step == 0) {
		h->magic = MAGIC;
	} else if (h->magic != MAGIC) {
		printf("ERROR bad header magic %llx\n", (unsigned long long)h->magic);
		return 2;
	}
	uint64_t S = h->step;
	if (verify(data, S) < 0)
		return 2;
	/* The epoch on the line: a lost step then tells a store that went
	 * back (epoch lower) from an epoch that lost writes (epoch higher). */
	printf("state %llu epoch %llu\n", (unsigned long long)S,
	       (unsigned long long)pst_image_committed_epoch(img));
	if (verify_only)
		_exit(0);   /* leave the image exactly as found */

	for (uint64_t s = S + 1;; s++) {
		pst_mut_poll(m);
		step(data, h, s);
		if (s % 25 == 0) {
			pst_mut_block(m);
			uint64_t e = 0;
			rc = pst_image_sync(img, 60000000000ull, &e);
			pst_mut_unblock(m);
			if (rc < 0) {
				printf("ERROR snapshot failed: %s\n", err_str(rc));
				return 3;
			}
			printf("committed %llu epoch %llu\n", (unsigned long long)s,
			       (unsigned long long)e);
		}
	}
}
