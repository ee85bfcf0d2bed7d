/* store_int.h — the store's on-disk layout constants and the state shared by
 * persist/store_*.c (superblocks, page map, space, txn). Internal to those
 * files; docs/store-format.md describes the same bytes for a reader.
 *
 *   block 0  superblock slot 0      block 1  superblock slot 1
 *   block 2.. map blocks and data blocks, allocated from free space
 *
 *   map block (4096 bytes) = 256 entries of 16 bytes:
 *   +---------------------------+---------------------------+
 *   | child block number (le64) | child checksum (le64)     |   block 0 = absent
 *   +---------------------------+---------------------------+
 *   checksum(b, bytes) = pst_page_hash(bytes) XOR splitmix64-mix(b)
 *
 * Bump PST_SB_VERSION whenever any of this changes meaning. */
#ifndef PHANTOM_PST_STORE_INT_H
#define PHANTOM_PST_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "plat.h"
#include "store.h"

#define PST_BLK           4096u
#define PST_FANOUT        256u
#define PST_FANOUT_BITS   8u
#define PST_MAX_LEVELS    4u          /* 256^4 pages >= PLAT_ARENA_MAX */
#define PST_FIRST_DATA    2u          /* blocks 0 and 1 are superblocks */
#define PST_SB_VERSION    3u
#define PST_SB_MAGIC      "PHSTORE\0"
#define PST_SB_SUM_OFF    4064u       /* BLAKE2b-256 of bytes [0, 4064) */
#define PST_SB_RSVD_OFF   84u         /* [84, 128) reserved: zero */
#define PST_SB_META_OFF   128u        /* then zero from meta_len to 4064 */
#define PST_CACHE_SLOTS   64u         /* verified map blocks kept */

/* A map entry: the child's block and its checksum. blk 0 = absent. */
struct pst_ent {
	uint64_t blk;
	uint64_t sum;
};

/* A decoded superblock. */
struct pst_sb {
	uint32_t slot, levels, meta_len;
	uint64_t epoch, prev_epoch, arena_pages, dev_blocks, used_blocks;
	struct pst_ent root;
	uint8_t meta[PST_STORE_META_MAX];
};

struct pst_cache_ent {
	uint64_t blk, sum;            /* blk 0 = empty slot */
	uint8_t data[PST_BLK];
};

struct pst_store {
	struct plat_blk *blk;
	struct pst_sb cur;            /* committed epoch, in slot cur.slot     */
	uint8_t img[2][PST_BLK];      /* bytes last known in each slot         */
	bool other_live;              /* other slot's tree is protected        */
	bool other_wipe;              /* other slot must be zeroed before reuse */
	bool slot_unsure;             /* the other slot may hold a failed
				       * commit's superblock: restored first */
	bool fell_back;
	void (*io_unlock)(void *ctx), (*io_relock)(void *ctx);
	void *io_ctx;
	uint64_t nblocks;             /* = cur.dev_blocks                       */

	/* Space. used = live in cur ∪ live in a protected other ∪ allocated by
	 * the open txn. pend = live in other only: blocks the last commit
	 * released; they become free when the next commit lands (a block freed
	 * by commit E is reused from commit E+2 on). */
	uint64_t *used;
	uint64_t nused, hint;
	uint64_t *pend;
	size_t npend, cpend;

	struct pst_txn *txn;
	struct pst_cache_ent *cache;
	uint8_t scratch[PST_BLK];     /* read_page's map buffer: keeps 4 KiB off
				       * the (fault handler's) stack */
	char err[320];
	char notice[512];
};

/* little-endian fields */
static inline void pst_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t pst_get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
static inline void pst_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t pst_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* store_super.c */
uint64_t pst_store_sum(uint64_t blk, const void *data);
/* The sum of block blk whose contents hash to page_hash. */
uint64_t pst_store_sum_of(uint64_t blk, uint64_t page_hash);
/* The inverse: the hash of the contents a data block's sum vouches for. */
uint64_t pst_store_hash_of_sum(uint64_t blk, uint64_t sum);
uint32_t pst_store_levels(uint64_t arena_pages);
void pst_store_sb_encode(const struct pst_sb *sb, uint8_t *img);
int pst_store_sb_decode(const uint8_t *img, uint32_t slot, uint64_t dev_size,
			struct pst_sb *sb, char *why, size_t whylen);
/* One block in or out; a write, like a flush, runs with the caller's lock
 * released (pst_store_set_io_unlock), so it must only write blocks that no
 * committed epoch reaches. pst_store_dev_write: len bytes at off, raw rc. */
int pst_store_io(struct pst_store *s, bool wr, uint64_t b, void *buf);
int pst_store_dev_write(struct pst_store *s, uint64_t off, const void *buf,
			size_t len);
int pst_store_flush(struct pst_store *s, const char *what);
int pst_store_seterr(struct pst_store *s, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* store_map.c */
/* Map block e (at `level`, on the path of pgno) into out, verified. */
int pst_store_map_read(struct pst_store *s, struct pst_ent e, unsigned level,
		       uint64_t pgno, uint8_t *out);
/* Map block e as just written by a commit: cached, so the next epoch's
 * lookups need not read it back. */
void pst_store_cache_put(struct pst_store *s, struct pst_ent e,
			 const uint8_t *map);
int pst_store_walk(struct pst_store *s, const struct pst_sb *sb, bool other);
void pst_ent_get(const uint8_t *map, unsigned i, struct pst_ent *e);
void pst_ent_put(uint8_t *map, unsigned i, struct pst_ent e);

/* store_alloc.c */
int pst_store_space_init(struct pst_store *s);
bool pst_store_bit(const struct pst_store *s, uint64_t b);
void pst_store_mark(struct pst_store *s, uint64_t b);
void pst_store_unmark(struct pst_store *s, uint64_t b);
int pst_store_alloc(struct pst_store *s, uint64_t *b);
int pst_store_pend_add(struct pst_store *s, uint64_t b);
void pst_store_pend_release(struct pst_store *s);
void pst_store_cache_forget(struct pst_store *s, uint64_t b);

#endif
