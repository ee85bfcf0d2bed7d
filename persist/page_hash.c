/* page_hash.c — pst_page_hash: zstd's bundled xxhash, compiled in here as a
 * header (XXH_INLINE_ALL), because the system's shared libzstd (the hosted
 * build links it) does not export it; one code path serves both builds. The
 * hosted build adds zstd's lib/ directory to this file's include path only;
 * the kernel build has it for the whole core. */
#define XXH_INLINE_ALL
#include "common/xxhash.h"

#include "page_hash.h"
#include "plat.h"

uint64_t pst_page_hash(const void *page)
{
	return XXH64(page, PLAT_PAGE_SIZE, 0);
}
