/* crash_child.c — the mutator of the persist crash campaign. Opens (or
 * creates) an image, checks that it holds exactly the state after some whole
 * step S (replaying steps 1..S from a seed must give the same pages), prints
 * "state S epoch E", then keeps doing steps and snapshots, printing
 * "committed S epoch E" once a snapshot holding step S is durable, until it
 * is killed.
 *
 * Step s writes the value s into WRITES_PER_STEP words chosen by a PRNG seeded
 * with s, then records s in the header; steps happen between safepoints, so a
 * consistent snapshot holds a whole number of steps.
 *
 * The phase the engine is in goes to one byte of IMAGE.phase, mapped shared:
 * a store to it outlives a kill -9, so the campaign reads there what the
 * kill hit (see struct phase_blk). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* E: mid-epoch (no closed epoch is being written); S: mid-snapshot (from the
 * instant's world stop until the commit's first flush: the closed epoch's
 * pages go to the store); C: mid-commit (from that flush, which makes the
 * data and map blocks durable, through the superblock switch until
 * on_commit). A commit's last data and map writes, before its first flush,
 * count as S: the device cannot tell them from the page writes. */
static char phase_local = 'E';
static char *phase = &phase_local;

static void set_phase(char p)
{
	__atomic_store_n(phase, p, __ATOMIC_RELEASE);
}

/* The image's device, wrapped to see the commit's flushes. */
struct phase_blk {
	struct plat_blk b;
	struct plat_blk *under;
	bool wiping;             /* the last write zeroed a superblock slot */
};

static struct plat_blk *under(struct plat_blk *b)
{
	return ((struct phase_blk *)b)->under;
}

static int pb_read(struct plat_blk *b, uint64_t off, void *buf, size_t len)
{
	return plat_blk_read(under(b), off, buf, len);
}

static int pb_write(struct plat_blk *b, uint64_t off, const void *buf,
		    size_t len)
{
	/* A txn's begin may zero the other superblock slot (blocks 0 and 1)
	 * and flush: not a commit. */
	const char *p = buf;
	((struct phase_blk *)b)->wiping = off < 2 * PLAT_PAGE_SIZE &&
		len > 0 && p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
	return plat_blk_write(under(b), off, buf, len);
}

static int pb_flush(struct plat_blk *b)
{
	struct phase_blk *pb = (struct phase_blk *)b;
	if (pb->wiping)
		pb->wiping = false;
	else if (__atomic_load_n(phase, __ATOMIC_ACQUIRE) == 'S')
		set_phase('C');
	return plat_blk_flush(pb->under);
}

static void pb_close(struct plat_blk *b)
{
	plat_blk_close(under(b));
}

static const struct plat_blk_ops phase_blk_ops = {
	.read = pb_read, .write = pb_write, .flush = pb_flush, .close = pb_close,
};

/* The instant (every snapshot's, the clock's too) begins with the stop. */
static struct pst_world world;

static void phase_stop(void *ctx)
{
	set_phase('S');
	world.stop(ctx);
}

static void phase_resume(void *ctx)
{
	world.resume(ctx);
}

static void phase_commit(void *ctx, uint64_t epoch)
{
	(void)ctx; (void)epoch;
	set_phase('E');
}

/* Maps IMAGE.phase; without it the phase goes nowhere. */
static void phase_map(const char *image)
{
	char name[4096];
	snprintf(name, sizeof name, "%s.phase", image);
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 1) != 0) {
		printf("ERROR cannot create %s\n", name);
		exit(3);
	}
	void *p = mmap(NULL, 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		printf("ERROR cannot map %s\n", name);
		exit(3);
	}
	phase = p;
	set_phase('E');
}

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
	if (!verify_only)
		phase_map(path);
	struct phase_blk pb = { .b.ops = &phase_blk_ops };
	if (plat_blk_open(path, fresh ? PLAT_BLK_CREATE : 0, 16u << 20, &pb.under) < 0) {
		printf("ERROR cannot open %s\n", path);
		return 3;
	}
	pb.b.size = pb.under->size;
	pb.b.name = pb.under->name;
	struct pst_mut_registry *reg;
	struct pst_mutator *m;
	if (pst_mut_registry_new(&reg) < 0 || pst_mut_register(reg, &m) < 0)
		return 3;
	world = pst_mut_world(reg);
	struct pst_image_config cfg = {
		.blk = &pb.b,
		.arena_size = 64u << 20,
		.world = { .ctx = world.ctx, .stop = phase_stop,
			   .resume = phase_resume },
		.interval_ns = verify_only ? 0 : 3000000,
		.cow_pages = 32,
		.on_commit = phase_commit,
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
