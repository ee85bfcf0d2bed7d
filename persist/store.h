/* store.h — the crash-consistent on-disk store: the arena's pages at the last
 * committed epoch on a block device (shadow paging, two superblocks, a checksum
 * on every block verified from its parent). Format: docs/store-format.md.
 *
 * Use: pst_store_format() or pst_store_open(); pst_store_read_page() pages in
 * lazily at the committed epoch; one pst_txn at a time builds the next epoch
 * and pst_txn_commit() makes it durable and atomic. A store is not thread-safe:
 * its caller serialises every call (the snapshot engine owns it). The store
 * never closes the block device it was given. */
#ifndef PHANTOM_PST_STORE_H
#define PHANTOM_PST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "page_hash.h"
#include "plat.h"

#define PST_STORE_META_MAX 1024u   /* bytes of root metadata per epoch */

struct pst_store;
struct pst_txn;

/* Writes a fresh store on the whole device: epoch 0, every page absent (reads
 * as zeros), empty meta. The device must hold at least 4 blocks of 4096. */
int pst_store_format(struct plat_blk *blk, uint64_t arena_pages,
		     struct pst_store **out);

/* Opens at the last committed epoch. Reads the two superblocks and walks the
 * map blocks (never data pages). On failure returns -ERR_x and writes into
 * `why` what is wrong (which block, which check). On success `why` is "" or,
 * when the newest epoch was damaged and the previous one was provably safe,
 * a notice that the store fell back (also pst_store_notice()). why may be NULL. */
int pst_store_open(struct plat_blk *blk, struct pst_store **out, char *why,
		   size_t whylen);
void pst_store_close(struct pst_store *s);

uint64_t pst_store_epoch(const struct pst_store *s);
uint64_t pst_store_arena_pages(const struct pst_store *s);
/* Blocks of the device the store may use, and those free for the next txn. */
uint64_t pst_store_device_blocks(const struct pst_store *s);
uint64_t pst_store_free_blocks(const struct pst_store *s);
/* True when open fell back to the previous epoch; the notice says why. */
bool pst_store_fell_back(const struct pst_store *s);
const char *pst_store_notice(const struct pst_store *s);

/* For a caller that serialises its store calls with a lock: unlock(ctx) is
 * called before each device write and flush and relock(ctx) after it, so
 * the lock is not held across the slow part of a put or a commit. Those
 * writes go only to blocks that no committed epoch reaches (a txn's new data
 * and map blocks, the superblock slot not in use), so while one runs, reads
 * (pst_store_read_page*) may run and see the committed epoch; nothing else
 * may. Every call that can write (txn_begin, txn_put_page*, txn_commit) must
 * then be made with the lock held. */
void pst_store_set_io_unlock(struct pst_store *s, void (*unlock)(void *),
			     void (*relock)(void *), void *ctx);

/* Page pgno at the committed epoch into buf (4096 bytes). An absent page
 * reads as zeros with *present = false (present may be NULL). A checksum or
 * I/O failure returns -ERR_CORRUPT / -ERR_IO; pst_store_last_error() says
 * which block failed which check. Never returns unverified bytes. */
int pst_store_read_page(struct pst_store *s, uint64_t pgno, void *buf,
			bool *present);
/* The same, also giving the page's hash (pst_store_page_hash of what buf
 * now holds) at no cost: the check computed it. */
int pst_store_read_page_hashed(struct pst_store *s, uint64_t pgno, void *buf,
			       bool *present, uint64_t *hash);

/* A page's 64-bit hash: pst_page_hash (XXH64 of its 4096 bytes, see
 * page_hash.h). Equal to the base hash a delta record carries
 * (docs/delta-format.md), so one hashing serves both. */
uint64_t pst_store_page_hash(const void *page);
#define PST_STORE_ZERO_HASH PST_PAGE_ZERO_HASH      /* of 4096 zero bytes */
/* The committed page's hash (PST_STORE_ZERO_HASH when absent) from the map
 * alone: its data block is not read. Same errors as pst_store_read_page. */
int pst_store_page_hash_at(struct pst_store *s, uint64_t pgno, uint64_t *hash);
/* How many pages from pgno on, at most max, the committed map holds nothing
 * for (each reads as zeros), in *count. Same errors as pst_store_read_page. */
int pst_store_unstored_run(struct pst_store *s, uint64_t pgno, uint32_t max,
			   uint32_t *count);

const char *pst_store_last_error(const struct pst_store *s);

/* The committed epoch's meta blob. -ERR_RANGE if cap is too small (*len is
 * then the size needed). */
int pst_store_get_meta(struct pst_store *s, void *buf, size_t cap, size_t *len);

/* One epoch's commit. epoch must exceed the committed epoch; one txn at a
 * time (-ERR_BUSY otherwise). Meta is inherited unless set. */
int pst_txn_begin(struct pst_store *s, uint64_t epoch, struct pst_txn **t);
/* New contents of a page. Written to a free block at once (not flushed); a
 * page of all zeros is stored as absent. -ERR_NOSPC when the device is full. */
int pst_txn_put_page(struct pst_txn *t, uint64_t pgno, const void *page);
/* The same for a caller that has already hashed the page: hash must be
 * pst_store_page_hash(page) (it becomes the block's checksum unverified). */
int pst_txn_put_page_hashed(struct pst_txn *t, uint64_t pgno,
			    const void *page, uint64_t hash);
/* The page is unused: nothing is written, it reads back as zeros, its block
 * is reclaimed. */
int pst_txn_drop_page(struct pst_txn *t, uint64_t pgno);
int pst_txn_set_meta(struct pst_txn *t, const void *meta, size_t len);
/* Data and map blocks written and flushed, then the superblock written and
 * flushed. 0: the epoch is committed and the txn is gone. Failure: the store
 * is still at the old epoch and the txn stays open (pages put meanwhile
 * join it): commit it again, or abort it. When the superblock write failed and so did the write putting
 * the slot's old bytes back, the slot may hold this commit until those
 * bytes are back: the next commit (or txn_begin) writes them first and
 * fails again while it cannot, and the txn's blocks stay allocated (an
 * abort then leaves them so until the store is reopened). A commit
 * after a failed one first reads back every data block of the txn, checks it
 * against its page's hash and writes it again (a failed write or flush may
 * have lost it); a block that no longer holds its page (or cannot be read)
 * fails that commit with -ERR_IO naming the block, and the txn can then only
 * be aborted (pst_txn_lost() says so). */
int pst_txn_commit(struct pst_txn *t);
bool pst_txn_lost(const struct pst_txn *t);
void pst_txn_abort(struct pst_txn *t);

#endif
