/* delta.h — the delta codec: one epoch's pages, each encoded against its
 * previous committed version, framed with (epoch, base epoch) and a BLAKE2b
 * checksum. These bytes are what replication is to put into Raft unchanged
 * (the store keeps whole pages; applying a delta brings a store at its base
 * epoch to the new one). Byte layout:
 * persist/delta_format.h and docs/delta-format.md.
 *
 * Guarantees: applying a delta to the image at its base epoch yields the new
 * image bit for bit; applying it to an image at another epoch, or to one that
 * claims the right epoch but holds other contents in a page the delta touches,
 * is refused before anything is written; so is a corrupt delta. */
#ifndef PHANTOM_PST_DELTA_H
#define PHANTOM_PST_DELTA_H

#include <stddef.h>
#include <stdint.h>

/* How the writer encodes a page that changed (docs/delta-format.md has the
 * measurements behind the default). Every mode's output is read by the same
 * decoder: the record says which encoding it used. */
enum pst_delta_enc {
	PST_DELTA_ENC_XOR = 0,     /* XOR with the base page, then zstd        */
	PST_DELTA_ENC_PREFIX = 1,  /* zstd with the base page as prefix        */
	PST_DELTA_ENC_BEST = 2,    /* try both, keep the smaller (2x the CPU)  */
};
#define PST_DELTA_ENC_DEFAULT PST_DELTA_ENC_PREFIX   /* measured: smallest and fastest */
#define PST_DELTA_LEVEL_DEFAULT 1                     /* level 3 buys nothing on pages  */

/* Reusable across epochs; owns the zstd context, scratch pages and the output
 * buffer. Not thread-safe: one writer per thread. */
struct pst_delta_writer;

int pst_delta_writer_new(struct pst_delta_writer **w);
void pst_delta_writer_free(struct pst_delta_writer *w);

/* Optional tuning, between deltas: encoding mode and zstd level (1..19). */
int pst_delta_writer_set_mode(struct pst_delta_writer *w, enum pst_delta_enc mode,
			      int level);

/* Start a delta that turns the image at base_epoch into the image at epoch
 * (epoch > base_epoch). Discards any previous delta's bytes. */
int pst_delta_begin(struct pst_delta_writer *w, uint64_t epoch, uint64_t base_epoch);

/* Add one page of the new image. base_page is its contents at base_epoch
 * (NULL = zero or absent there). Pages may come in any order; each page number
 * at most once per delta (a repeat makes finish fail with -ERR_INVAL). The
 * contents are encoded at once: both buffers may be reused on return. */
int pst_delta_add_page(struct pst_delta_writer *w, uint64_t pgno,
		       const void *base_page, const void *new_page);
/* The same with the base page's 8-byte hash already known, so the page is
 * not hashed again: the store's pst_store_page_hash, little-endian, is the
 * same hash. A wrong one makes every apply of this delta refuse the page. */
int pst_delta_add_page_hashed(struct pst_delta_writer *w, uint64_t pgno,
			      const void *base_page,
			      const uint8_t base_hash[8],
			      const void *new_page);

/* The heap declared the page unused: the new image drops it (reads as zero). */
int pst_delta_add_unused(struct pst_delta_writer *w, uint64_t pgno);

/* Seal the delta. *bytes stays valid until the next begin or free. */
int pst_delta_finish(struct pst_delta_writer *w, const void **bytes, size_t *len);

struct pst_delta_info {
	uint64_t epoch, base_epoch;
	uint32_t npages;          /* page records (not counting unused ones)   */
	uint32_t nunused;         /* pages dropped                             */
	uint64_t raw_bytes;       /* npages * PLAT_PAGE_SIZE                   */
};

/* Check a delta completely without touching any image: magic, version,
 * lengths, checksum, record bounds and order. 0, -ERR_CORRUPT or
 * -ERR_VERSION; never reads outside [bytes, bytes+len). info may be NULL. */
int pst_delta_verify(const void *bytes, size_t len, struct pst_delta_info *info);

/* The image a delta is applied to. */
struct pst_delta_target {
	void *ctx;
	uint64_t epoch;   /* the epoch the target holds; must equal base_epoch */
	int (*read_page)(void *ctx, uint64_t pgno, void *buf);   /* zeros if absent */
	int (*write_page)(void *ctx, uint64_t pgno, const void *buf);
	int (*drop_page)(void *ctx, uint64_t pgno);
};

/* Apply a delta. Refusals, all before any write_page/drop_page call:
 *   -ERR_CORRUPT / -ERR_VERSION  the delta itself is damaged (as verify),
 *                                or a page's encoding does not decode to
 *                                exactly one page;
 *   -ERR_INVAL                   wrong base: t->epoch != base_epoch, or a
 *                                page's base contents differ from what the
 *                                delta was made against.
 * After the first write, only an error returned by the target's callbacks can
 * stop the apply midway; the target's epoch is the caller's to advance. */
int pst_delta_apply(const void *bytes, size_t len, const struct pst_delta_target *t);

#endif
