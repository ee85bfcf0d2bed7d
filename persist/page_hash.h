/* page_hash.h — the one hash of a 4 KiB page: XXH64 (seed 0) of its bytes.
 * The store's block sums and a delta's base hashes are both this value, so
 * the writer hashes each page once per epoch. It detects corruption and a
 * wrong base, not an attacker: whole deltas and superblocks carry BLAKE2b.
 * Byte order where it is stored: little-endian (docs/store-format.md). */
#ifndef PHANTOM_PST_PAGE_HASH_H
#define PHANTOM_PST_PAGE_HASH_H

#include <stdint.h>

uint64_t pst_page_hash(const void *page);

#define PST_PAGE_ZERO_HASH 0xac869b6f32d8bbdbull   /* of 4096 zero bytes */

#endif
