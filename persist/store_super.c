/* store_super.c — the store's superblocks (encode, decode, validate), the
 * block checksum, block I/O with error context, and pst_store_format().
 * Superblock byte layout: docs/store-format.md, "Superblock". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "page_hash.h"
#include "store_int.h"

/* The block's contents hashed alone (page_hash.h): the very 8 bytes a
 * delta record carries for its base page, so the writer hashes each page
 * once for both. */
uint64_t pst_store_page_hash(const void *data)
{
	return pst_page_hash(data);
}

/* A bijective mix of the block number (the splitmix64 finaliser): binding
 * it into the sum catches a block read from (or written to) the wrong place
 * even when its bytes are a valid block of the same store. */
static uint64_t blk_mask(uint64_t blk)
{
	uint64_t x = blk + 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t pst_store_sum_of(uint64_t blk, uint64_t page_hash)
{
	return page_hash ^ blk_mask(blk);
}

uint64_t pst_store_hash_of_sum(uint64_t blk, uint64_t sum)
{
	return sum ^ blk_mask(blk);
}

uint64_t pst_store_sum(uint64_t blk, const void *data)
{
	return pst_store_sum_of(blk, pst_store_page_hash(data));
}

uint32_t pst_store_levels(uint64_t arena_pages)
{
	uint32_t l = 1;
	uint64_t span = PST_FANOUT;
	while (span < arena_pages && l < PST_MAX_LEVELS) {
		span <<= PST_FANOUT_BITS;
		l++;
	}
	return l;
}

int pst_store_seterr(struct pst_store *s, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	return rc;
}

/* Device writes and flushes run with the caller's lock released
 * (pst_store_set_io_unlock): in between only the device is touched, and
 * only blocks that no committed epoch reaches are written. */
static void io_release(struct pst_store *s)
{
	if (s->io_unlock)
		s->io_unlock(s->io_ctx);
}

static void io_reacquire(struct pst_store *s)
{
	if (s->io_unlock)
		s->io_relock(s->io_ctx);
}

int pst_store_dev_write(struct pst_store *s, uint64_t off, const void *buf,
			size_t len)
{
	io_release(s);
	int rc = plat_blk_write(s->blk, off, buf, len);
	io_reacquire(s);
	return rc;
}

int pst_store_io(struct pst_store *s, bool wr, uint64_t b, void *buf)
{
	int rc = wr ? pst_store_dev_write(s, b * PST_BLK, buf, PST_BLK)
		    : plat_blk_read(s->blk, b * PST_BLK, buf, PST_BLK);
	if (rc < 0)
		return pst_store_seterr(s, rc, "%s: %s of block %llu failed: %s",
					s->blk->name ? s->blk->name : "store",
					wr ? "write" : "read",
					(unsigned long long)b, err_str(rc));
	return 0;
}

int pst_store_flush(struct pst_store *s, const char *what)
{
	io_release(s);
	int rc = plat_blk_flush(s->blk);
	io_reacquire(s);
	if (rc < 0)
		return pst_store_seterr(s, rc, "%s: flush of %s failed: %s",
					s->blk->name ? s->blk->name : "store",
					what, err_str(rc));
	return 0;
}

/* Every byte not written here stays zero (reserved bytes, the meta blob
 * past meta_len), and an absent root is {0, 0} wherever one is made
 * (format, build): decode refuses anything else. */
void pst_store_sb_encode(const struct pst_sb *sb, uint8_t *img)
{
	memset(img, 0, PST_BLK);
	memcpy(img, PST_SB_MAGIC, 8);
	pst_put32(img + 8, PST_SB_VERSION);
	pst_put32(img + 12, PST_BLK);
	pst_put32(img + 16, sb->slot);
	pst_put32(img + 20, sb->levels);
	pst_put64(img + 24, sb->epoch);
	pst_put64(img + 32, sb->prev_epoch);
	pst_put64(img + 40, sb->arena_pages);
	pst_put64(img + 48, sb->dev_blocks);
	pst_put64(img + 56, sb->root.blk);
	pst_put64(img + 64, sb->root.sum);
	pst_put64(img + 72, sb->used_blocks);
	pst_put32(img + 80, sb->meta_len);
	memcpy(img + PST_SB_META_OFF, sb->meta, sb->meta_len);
	crypto_generichash(img + PST_SB_SUM_OFF, 32, img, PST_SB_SUM_OFF, NULL, 0);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* The offset of the first non-zero byte where the format wants zeros
 * (reserved bytes, the meta blob past meta_len), or 0 for none. */
static uint32_t stray_byte(const uint8_t *img, uint32_t meta_len)
{
	for (uint32_t i = PST_SB_RSVD_OFF; i < PST_SB_META_OFF; i++)
		if (img[i] != 0)
			return i;
	for (uint32_t i = PST_SB_META_OFF + meta_len; i < PST_SB_SUM_OFF; i++)
		if (img[i] != 0)
			return i;
	return 0;
}

/* Validates one slot's bytes. -ERR_NOENT for an all-zero (never written or
 * wiped) slot, -ERR_VERSION, -ERR_CORRUPT otherwise; why names the check. */
int pst_store_sb_decode(const uint8_t *img, uint32_t slot, uint64_t dev_size,
			struct pst_sb *sb, char *why, size_t whylen)
{
	uint8_t h[32];
	if (all_zero(img, PST_BLK)) {
		snprintf(why, whylen, "superblock %u (block %u) is empty", slot, slot);
		return -ERR_NOENT;
	}
	if (memcmp(img, PST_SB_MAGIC, 8) != 0) {
		snprintf(why, whylen, "superblock %u (block %u): bad magic", slot, slot);
		return -ERR_CORRUPT;
	}
	crypto_generichash(h, 32, img, PST_SB_SUM_OFF, NULL, 0);
	if (memcmp(h, img + PST_SB_SUM_OFF, 32) != 0) {
		snprintf(why, whylen, "superblock %u (block %u): BLAKE2b checksum "
			 "mismatch (torn or damaged)", slot, slot);
		return -ERR_CORRUPT;
	}
	if (pst_get32(img + 8) != PST_SB_VERSION) {
		snprintf(why, whylen, "superblock %u: format version %u, this build "
			 "reads %u", slot, pst_get32(img + 8), PST_SB_VERSION);
		return -ERR_VERSION;
	}
	memset(sb, 0, sizeof *sb);
	sb->slot = pst_get32(img + 16);
	sb->levels = pst_get32(img + 20);
	sb->epoch = pst_get64(img + 24);
	sb->prev_epoch = pst_get64(img + 32);
	sb->arena_pages = pst_get64(img + 40);
	sb->dev_blocks = pst_get64(img + 48);
	sb->root.blk = pst_get64(img + 56);
	sb->root.sum = pst_get64(img + 64);
	sb->used_blocks = pst_get64(img + 72);
	sb->meta_len = pst_get32(img + 80);
	const char *bad = NULL;
	char stray[96];
	uint32_t off;
	if (pst_get32(img + 12) != PST_BLK)
		bad = "block size is not 4096";
	else if (sb->slot != slot)
		bad = "slot field names the other slot (misdirected write)";
	else if (sb->arena_pages == 0 ||
		 sb->arena_pages > PLAT_ARENA_MAX / PLAT_PAGE_SIZE)
		bad = "arena size out of range";
	else if (sb->levels != pst_store_levels(sb->arena_pages))
		bad = "map height does not match the arena size";
	else if (sb->dev_blocks < PST_FIRST_DATA + 2)
		bad = "device block count too small";
	else if (sb->root.blk != 0 && (sb->root.blk < PST_FIRST_DATA ||
				       sb->root.blk >= sb->dev_blocks))
		bad = "root block out of range";
	else if (sb->meta_len > PST_STORE_META_MAX)
		bad = "meta length over 1024";
	else if (sb->root.blk == 0 && sb->root.sum != 0)
		bad = "root checksum is not 0 but there is no root block";
	else if ((off = stray_byte(img, sb->meta_len)) != 0) {
		bool in_meta = off >= PST_SB_META_OFF &&
			       off < PST_SB_META_OFF + PST_STORE_META_MAX;
		snprintf(stray, sizeof stray, "byte %u is not zero (%s)", off,
			 in_meta ? "meta blob past meta_len" : "reserved");
		bad = stray;
	}
	if (bad) {
		snprintf(why, whylen, "superblock %u (epoch %llu): %s", slot,
			 (unsigned long long)sb->epoch, bad);
		return -ERR_CORRUPT;
	}
	if (sb->dev_blocks > dev_size / PST_BLK) {
		snprintf(why, whylen, "device truncated: superblock %u says the store "
			 "has %llu blocks (%llu bytes) but the device has %llu bytes",
			 slot, (unsigned long long)sb->dev_blocks,
			 (unsigned long long)(sb->dev_blocks * PST_BLK),
			 (unsigned long long)dev_size);
		return -ERR_CORRUPT;
	}
	memcpy(sb->meta, img + PST_SB_META_OFF, sb->meta_len);
	return 0;
}

void pst_store_set_io_unlock(struct pst_store *s, void (*unlock)(void *),
			     void (*relock)(void *), void *ctx)
{
	s->io_unlock = unlock;
	s->io_relock = relock;
	s->io_ctx = ctx;
}

int pst_store_format(struct plat_blk *blk, uint64_t arena_pages,
		     struct pst_store **out)
{
	if (blk == NULL || out == NULL || arena_pages == 0 ||
	    arena_pages > PLAT_ARENA_MAX / PLAT_PAGE_SIZE)
		return -ERR_INVAL;
	uint64_t nb = blk->size / PST_BLK;
	if (nb < PST_FIRST_DATA + 2)
		return -ERR_RANGE;
	struct pst_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -ERR_NOMEM;
	s->blk = blk;
	s->nblocks = nb;
	s->cur.slot = 0;
	s->cur.levels = pst_store_levels(arena_pages);
	s->cur.arena_pages = arena_pages;
	s->cur.dev_blocks = nb;
	s->cur.used_blocks = PST_FIRST_DATA;
	int rc = -ERR_NOMEM;
	s->cache = calloc(PST_CACHE_SLOTS, sizeof *s->cache);
	if (s->cache == NULL)
		goto fail;
	rc = pst_store_space_init(s);
	if (rc < 0)
		goto fail;
	/* Slot 1 is zeroed first, so no older store's superblock can outlive
	 * the format; slot 0 then becomes epoch 0. */
	memset(s->img[1], 0, PST_BLK);
	pst_store_sb_encode(&s->cur, s->img[0]);
	if ((rc = pst_store_io(s, true, 1, s->img[1])) < 0 ||
	    (rc = pst_store_flush(s, "wiped superblock 1")) < 0 ||
	    (rc = pst_store_io(s, true, 0, s->img[0])) < 0 ||
	    (rc = pst_store_flush(s, "superblock 0")) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	pst_store_close(s);
	return rc;
}
