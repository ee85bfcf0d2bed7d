/* delta_format.h — the delta byte layout, versioned here and only here, and
 * the little-endian field helpers and page hash the writer and reader share.
 * Internal to persist/delta_*.c; docs/delta-format.md describes the same bytes.
 *
 *   header (48 bytes)
 *   0      4  magic "PDLT"  (0x544c4450 little-endian)
 *   4      2  format version (PST_DELTA_VERSION)
 *   6      2  header length (48; a reader refuses any other)
 *   8      8  epoch
 *   16     8  base epoch                       (base epoch < epoch)
 *   24     4  npages   records of kind SAME..PREFIX
 *   28     4  nunused  records of kind UNUSED
 *   32     8  total length of the delta, checksum included
 *   40     8  reserved, zero
 *   records, pgno strictly increasing, each:
 *   0      1  kind (enum below)
 *   1      2  payload length (fixed by kind, or 1..4095 for the zstd kinds)
 *   3      8  pgno (< PST_DELTA_MAX_PAGES)
 *   11     8  base hash: XXH64(base page), little-endian (page_hash.h);
 *              zero for UNUSED
 *   19     .. payload
 *   trailer: 32 bytes BLAKE2b-256 (crypto_generichash, no key) of all bytes
 *            before it.
 *
 * Change PST_DELTA_VERSION whenever any of this changes meaning. */
#ifndef PHANTOM_PST_DELTA_FORMAT_H
#define PHANTOM_PST_DELTA_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "page_hash.h"
#include "plat.h"

#define PST_DELTA_MAGIC       0x544c4450u   /* "PDLT" */
#define PST_DELTA_VERSION     2u
#define PST_DELTA_HDR_LEN     48u
#define PST_DELTA_REC_LEN     19u
#define PST_DELTA_SUM_LEN     32u
#define PST_DELTA_BHASH_LEN   8u
#define PST_DELTA_MAX_PAGES   (PLAT_ARENA_MAX / PLAT_PAGE_SIZE)

/* Record kinds. The base hash is checked for every kind except UNUSED. */
enum pst_delta_kind {
	PST_DELTA_K_SAME = 1,     /* new == base; no payload, nothing written   */
	PST_DELTA_K_ZERO = 2,     /* new is all zeros; no payload               */
	PST_DELTA_K_LITERAL = 3,  /* payload is the new page (4096 bytes)       */
	PST_DELTA_K_XOR = 4,      /* payload: zstd frame of (new XOR base)      */
	PST_DELTA_K_PREFIX = 5,   /* payload: zstd frame of new, base as prefix */
	PST_DELTA_K_UNUSED = 6,   /* page dropped; no payload, no base hash     */
};

static inline void pst_delta_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void pst_delta_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void pst_delta_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t pst_delta_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t pst_delta_get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t pst_delta_get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline int pst_delta_page_is_zero(const void *page)
{
	const uint8_t *p = page;
	for (size_t i = 0; i < PLAT_PAGE_SIZE; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		if (v)
			return 0;
	}
	return 1;
}

/* The short hash of a base page a record carries: pst_page_hash,
 * little-endian. It detects a wrong base, not an attacker. */
static inline void pst_delta_base_hash(const void *page, uint8_t out[PST_DELTA_BHASH_LEN])
{
	pst_delta_put64(out, pst_page_hash(page));
}

#endif
