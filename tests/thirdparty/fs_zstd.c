/* fs_zstd.c — the kernel build of zstd, linked with the kernel libc and run
 * freestanding: one-shot, streaming, and prefix-dictionary round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "fs_test.h"

int fs_main(void)
{
	int failures = 0;
	size_t n = 1u << 20, cap = ZSTD_compressBound(n);
	unsigned char *src = malloc(n), *dst = malloc(cap), *out = malloc(n);
	size_t c, d;

	if (!src || !dst || !out) {
		printf("FAIL: fs_zstd/alloc: malloc\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++) /* compressible, not trivial */
		src[i] = (unsigned char)("phantom persistent objects "[i % 27] ^ (i / 4096));
	c = ZSTD_compress(dst, cap, src, n, 3);
	d = ZSTD_isError(c) ? 0 : ZSTD_decompress(out, n, dst, c);
	FS_RESULT("fs_zstd", "oneshot_roundtrip",
		  !ZSTD_isError(c) && c < n / 10 && d == n && memcmp(src, out, n) == 0,
		  "c=%zu d=%zu", c, d);

	{
		ZSTD_CCtx *cc = ZSTD_createCCtx();
		ZSTD_outBuffer ob = { dst, cap, 0 };
		ZSTD_inBuffer ib = { src, n, 0 };
		size_t r = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
		ZSTD_freeCCtx(cc);
		d = ZSTD_decompress(out, n, dst, ob.pos);
		FS_RESULT("fs_zstd", "stream_roundtrip",
			  r == 0 && d == n && memcmp(src, out, n) == 0, "r=%zu d=%zu", r, d);
	}
	{
		/* A page compressed against its previous version (persist/'s deltas). */
		unsigned char *old = src, *new = src + 8192;
		ZSTD_CCtx *cc = ZSTD_createCCtx();
		ZSTD_DCtx *dc = ZSTD_createDCtx();
		memcpy(new, old, 4096);
		new[100] ^= 0x55;
		ZSTD_CCtx_refPrefix(cc, old, 4096);
		c = ZSTD_compress2(cc, dst, cap, new, 4096);
		ZSTD_DCtx_refPrefix(dc, old, 4096);
		d = ZSTD_decompressDCtx(dc, out, 4096, dst, c);
		FS_RESULT("fs_zstd", "prefix_dictionary",
			  !ZSTD_isError(c) && c < 64 && d == 4096 && memcmp(out, new, 4096) == 0,
			  "c=%zu d=%zu", c, d);
		ZSTD_freeCCtx(cc);
		ZSTD_freeDCtx(dc);
	}
	/* The delta frame must really depend on the prefix. */
	d = ZSTD_decompress(out, n, dst, c);
	FS_RESULT("fs_zstd", "prefix_frame_needs_prefix", ZSTD_isError(d),
		  "decoded %zu bytes without the prefix", d);
	free(src);
	free(dst);
	free(out);
	return failures;
}
