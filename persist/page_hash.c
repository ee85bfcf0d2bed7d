/* page_hash.c — pst_page_hash: zstd's bundled xxhash, compiled in here as a
 * header (XXH_INLINE_ALL), because neither libzstd's shared library nor the
 * kernel's build of it exports it. The build adds zstd's lib/ directory to
 * the include path of this file only. */
#define XXH_INLINE_ALL
#include "common/xxhash.h"

#include "page_hash.h"
#include "plat.h"

uint64_t pst_page_hash(const void *page)
{
	return XXH64(page, PLAT_PAGE_SIZE, 0);
}
