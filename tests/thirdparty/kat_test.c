/* kat_test.c — known-answer tests for the kernel's builds of zstd and
 * libsodium: the very object files the kernel links (-mcmodel=kernel, linked
 * here -no-pie with glibc, not with Debian's libzstd/libsodium), checked
 * against the zstd command-line tool and against published test vectors. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#include "check.h"

/* The two kernel-libc entry points the kernel objects name (errno.h and
 * assert.h map to them); glibc provides everything else. */
int *klibc_errno_location(void) { return &errno; }
void klibc_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "%s:%d: %s: assertion '%s' failed\n", file, line, func, expr);
	abort();
}

static char tmpdir[] = "/tmp/phantom-kat-XXXXXX";

/* ---- helpers ---------------------------------------------------------- */

static size_t unhex(unsigned char *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	if (n > cap || sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL) != 0)
		return (size_t)-1;
	return n;
}

static int write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(buf, 1, len, f) == len;

	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static int run(const char *fmt, const char *a, const char *b, const char *c)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, fmt, a, b, c);
	return system(cmd);
}

/* ---- zstd: kernel build vs the zstd CLI ------------------------------- */

enum kind { TEXT, RANDOM, ZEROS, MIXED, NKINDS };
static const char *kind_name[NKINDS] = { "text", "random", "zeros", "mixed" };
static const size_t kind_len[NKINDS] = { 3u << 20, 1u << 20, 4u << 20, 2u << 20 };

static unsigned char *make_data(enum kind k, size_t n)
{
	static const char *words[] = { "object ", "epoch ", "delta ", "raft ", "page ",
		"persistent ", "snapshot ", "the ", "a ", "commit ", "leader\n" };
	unsigned char *p = malloc(n);
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)k;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n;) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (k == TEXT || (k == MIXED && (i / 65536) % 2 == 0)) {
			const char *w = words[x % 11];
			for (; *w && i < n; w++)
				p[i++] = (unsigned char)*w;
		} else if (k == ZEROS) {
			p[i++] = 0;
		} else {
			p[i++] = (unsigned char)(x >> 32);
		}
	}
	return p;
}

TEST(zstd_kernel_compress_cli_decompress)
{
	for (int k = 0; k < NKINDS; k++) {
		size_t n = kind_len[k], cap = ZSTD_compressBound(n), back = 0;
		unsigned char *src = make_data(k, n), *dst = malloc(cap), *out;
		char in[256], res[256];
		size_t c;
		int rc;

		CHECK(src && dst);
		c = ZSTD_compress(dst, cap, src, n, k == TEXT ? 12 : 3);
		CHECKF(!ZSTD_isError(c), "%s: %s", kind_name[k], ZSTD_getErrorName(c));
		snprintf(in, sizeof in, "%s/k.zst", tmpdir);
		snprintf(res, sizeof res, "%s/k.out", tmpdir);
		CHECK(write_file(in, dst, c) == 0);
		rc = run("zstd -q -d -f -o %s %s", res, in, "");
		CHECKF(rc == 0, "%s: zstd -d exited %d", kind_name[k], rc);
		out = read_file(res, &back);
		CHECKF(out && back == n && memcmp(out, src, n) == 0,
		       "%s: CLI output differs (%zu of %zu bytes)", kind_name[k], back, n);
		if (k == ZEROS)
			CHECKF(c < n / 1000, "zeros compressed to %zu", c);
		free(src), free(dst), free(out);
	}
}

TEST(zstd_cli_compress_kernel_decompress)
{
	for (int k = 0; k < NKINDS; k++) {
		size_t n = kind_len[k], clen = 0;
		unsigned char *src = make_data(k, n), *frame, *out = malloc(n + 1);
		char in[256], res[256];
		unsigned long long fcs;
		size_t d;

		CHECK(src && out);
		snprintf(in, sizeof in, "%s/c.in", tmpdir);
		snprintf(res, sizeof res, "%s/c.zst", tmpdir);
		CHECK(write_file(in, src, n) == 0);
		CHECK(run("zstd -q -3 -f -o %s %s", res, in, "") == 0);
		frame = read_file(res, &clen);
		CHECK(frame);
		fcs = ZSTD_getFrameContentSize(frame, clen);
		CHECKF(fcs == n, "%s: frame content size %llu", kind_name[k], fcs);
		d = ZSTD_decompress(out, n + 1, frame, clen);
		CHECKF(d == n && memcmp(out, src, n) == 0, "%s: kernel zstd gave %zu (%s)",
		       kind_name[k], d, ZSTD_isError(d) ? ZSTD_getErrorName(d) : "bytes differ");
		free(src), free(frame), free(out);
	}
}

/* Streaming in 100 KB pieces (persist/ writes deltas this way), decoded by
 * the kernel's streaming decoder and by the CLI. */
TEST(zstd_streaming_both_ways)
{
	size_t n = kind_len[MIXED], cap = ZSTD_compressBound(n), back = 0;
	unsigned char *src = make_data(MIXED, n), *dst = malloc(cap), *out = malloc(n), *cli;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_outBuffer ob = { dst, cap, 0 };
	ZSTD_outBuffer db = { out, n, 0 };
	char in[256], res[256];
	size_t r = 1;

	CHECK(src && dst && out && cc && dc);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	for (size_t off = 0; off < n; off += 100000) {
		size_t len = n - off < 100000 ? n - off : 100000;
		ZSTD_inBuffer ib = { src + off, len, 0 };
		ZSTD_EndDirective end = off + len == n ? ZSTD_e_end : ZSTD_e_continue;
		do
			r = ZSTD_compressStream2(cc, &ob, &ib, end);
		while (!ZSTD_isError(r) && (end == ZSTD_e_end ? r != 0 : ib.pos < ib.size));
		CHECKF(!ZSTD_isError(r), "compressStream2: %s", ZSTD_getErrorName(r));
	}
	for (size_t off = 0; off < ob.pos; off += 4096) {
		ZSTD_inBuffer ib = { dst + off, ob.pos - off < 4096 ? ob.pos - off : 4096, 0 };
		while (ib.pos < ib.size) {
			r = ZSTD_decompressStream(dc, &db, &ib);
			CHECKF(!ZSTD_isError(r), "decompressStream: %s", ZSTD_getErrorName(r));
		}
	}
	CHECKF(r == 0 && db.pos == n && memcmp(out, src, n) == 0, "stream decode %zu/%zu", db.pos, n);
	snprintf(in, sizeof in, "%s/s.zst", tmpdir);
	snprintf(res, sizeof res, "%s/s.out", tmpdir);
	CHECK(write_file(in, dst, ob.pos) == 0);
	CHECK(run("zstd -q -d -f -o %s %s", res, in, "") == 0);
	cli = read_file(res, &back);
	CHECK(cli && back == n && memcmp(cli, src, n) == 0);
	/* The checksum is real: a flipped byte must be caught by the CLI. */
	dst[ob.pos - 2] ^= 0x01;
	CHECK(write_file(in, dst, ob.pos) == 0);
	CHECK(run("zstd -q -d -f -o %s %s 2>/dev/null", res, in, "") != 0);
	ZSTD_freeCCtx(cc), ZSTD_freeDCtx(dc);
	free(src), free(dst), free(out), free(cli);
}

/* A page compressed against its previous version: with a raw-content
 * dictionary (ZSTD_compress_usingDict, CLI -D) and as a prefix
 * (ZSTD_CCtx_refPrefix, CLI --patch-from). */
TEST(zstd_dictionary_and_prefix_match_cli)
{
	unsigned char *base = make_data(MIXED, 65536), page[4096], frame[8192];
	char dict[256], in[256], res[256];
	size_t c, plain, back = 0;
	unsigned char *cli;
	ZSTD_CCtx *cc = ZSTD_createCCtx();

	CHECK(base && cc);
	memcpy(page, base + 4096, 4096);
	page[17] ^= 0xff, page[3000] ^= 0x0f;
	snprintf(dict, sizeof dict, "%s/old.page", tmpdir);
	snprintf(in, sizeof in, "%s/d.zst", tmpdir);
	snprintf(res, sizeof res, "%s/d.out", tmpdir);
	CHECK(write_file(dict, base + 4096, 4096) == 0);

	plain = ZSTD_compress(frame, sizeof frame, page, 4096, 3);
	c = ZSTD_compress_usingDict(cc, frame, sizeof frame, page, 4096, base + 4096, 4096, 3);
	CHECKF(!ZSTD_isError(c) && c < plain / 4, "usingDict: %zu, without: %zu", c, plain);
	CHECK(write_file(in, frame, c) == 0);
	CHECK(run("zstd -q -d -f -D %s -o %s %s", dict, res, in) == 0);
	cli = read_file(res, &back);
	CHECK(cli && back == 4096 && memcmp(cli, page, 4096) == 0);
	free(cli);

	ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
	CHECK(!ZSTD_isError(ZSTD_CCtx_refPrefix(cc, base + 4096, 4096)));
	c = ZSTD_compress2(cc, frame, sizeof frame, page, 4096);
	CHECKF(!ZSTD_isError(c) && c < plain / 4, "refPrefix: %zu, without: %zu", c, plain);
	CHECK(write_file(in, frame, c) == 0);
	CHECK(run("zstd -q -d -f --patch-from=%s -o %s %s", dict, res, in) == 0);
	cli = read_file(res, &back);
	CHECK(cli && back == 4096 && memcmp(cli, page, 4096) == 0);
	free(cli);
	ZSTD_freeCCtx(cc);
	free(base);
}

/* ---- libsodium: published vectors ------------------------------------- */

static void rb_buf(void *const buf, const size_t size) { randombytes_buf_deterministic(buf, size, (const unsigned char *)"phantom kat test seed, 32 bytes!"); }
static uint32_t rb_random(void) { uint32_t r; rb_buf(&r, sizeof r); return r; }
static const char *rb_name(void) { return "kat-deterministic"; }
static struct randombytes_implementation rb_impl = {
	.implementation_name = rb_name, .random = rb_random, .buf = rb_buf,
};

TEST(sodium_init_with_custom_randombytes)
{
	CHECK(randombytes_set_implementation(&rb_impl) == 0);
	CHECK(sodium_init() == 0);
	CHECK(strcmp(randombytes_implementation_name(), "kat-deterministic") == 0);
	CHECK(strcmp(sodium_version_string(), "1.0.18") == 0);
}

TEST(blake2b_rfc7693_abc)
{
	unsigned char h[64], want[64];

	unhex(want, 64, "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
			"7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
	CHECK(crypto_generichash(h, 64, (const unsigned char *)"abc", 3, NULL, 0) == 0);
	CHECK(memcmp(h, want, 64) == 0);
}

/* The BLAKE2 reference keyed vectors, from the tests[] table of libsodium's
 * own test/default/generichash.c: {input hex, key hex, output hex} triples. */
TEST(blake2b_reference_keyed_vectors)
{
	size_t len = 0, count = 0;
	char path[512];
	char *src, *p, *strs[3];
	int ns = 0;

	snprintf(path, sizeof path, "%s/generichash.c", SODIUM_TEST_DIR);
	src = (char *)read_file(path, &len);
	CHECKF(src, "cannot read %.200s", path);
	src[len] = 0;
	p = strstr(src, "tests[] = {");
	CHECKF(p, "no tests[] table in %.200s", path);
	for (; *p && strncmp(p, "};", 2) != 0; p++) {
		char *end;
		if (*p != '"')
			continue;
		end = strchr(p + 1, '"');
		CHECK(end);
		*end = 0;
		strs[ns++] = p + 1;
		p = end;
		if (ns == 3) {
			unsigned char in[256], key[64], want[64], got[64];
			size_t il = unhex(in, sizeof in, strs[0]);
			size_t kl = unhex(key, sizeof key, strs[1]);
			size_t ol = unhex(want, sizeof want, strs[2]);
			CHECKF(il != (size_t)-1 && kl != (size_t)-1 && ol == 64, "bad vector %zu", count);
			CHECK(crypto_generichash(got, ol, in, il, key, kl) == 0);
			CHECKF(memcmp(got, want, ol) == 0, "vector %zu (input %zu bytes) differs", count, il);
			count++;
			ns = 0;
		}
	}
	CHECKF(count >= 64, "only %zu vectors found", count);
	free(src);
}

TEST(ed25519_rfc8032_tests_1_to_3)
{
	static const char *v[3][4] = { /* secret seed, public key, message, signature */
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
		{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
	};
	for (int i = 0; i < 3; i++) {
		unsigned char seed[32], pk_want[32], msg[8], sig_want[64];
		unsigned char pk[32], sk[64], sig[64];
		size_t ml = unhex(msg, sizeof msg, v[i][2]);

		unhex(seed, 32, v[i][0]), unhex(pk_want, 32, v[i][1]), unhex(sig_want, 64, v[i][3]);
		CHECK(crypto_sign_seed_keypair(pk, sk, seed) == 0);
		CHECKF(memcmp(pk, pk_want, 32) == 0, "test %d: public key differs", i + 1);
		CHECK(crypto_sign_detached(sig, NULL, msg, ml, sk) == 0);
		CHECKF(memcmp(sig, sig_want, 64) == 0, "test %d: signature differs", i + 1);
		CHECK(crypto_sign_verify_detached(sig_want, msg, ml, pk_want) == 0);
		sig[5] ^= 0x20;
		CHECKF(crypto_sign_verify_detached(sig, msg, ml, pk) != 0, "test %d: forged sig verified", i + 1);
	}
}

TEST(x25519_rfc7748_section_6_1)
{
	unsigned char a_sk[32], a_pk[32], b_sk[32], b_pk[32], k[32];
	unsigned char pk[32], s1[32], s2[32];

	unhex(a_sk, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(a_pk, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	unhex(b_sk, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(b_pk, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhex(k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	CHECK(crypto_scalarmult_base(pk, a_sk) == 0 && memcmp(pk, a_pk, 32) == 0);
	CHECK(crypto_scalarmult_base(pk, b_sk) == 0 && memcmp(pk, b_pk, 32) == 0);
	CHECK(crypto_scalarmult(s1, a_sk, b_pk) == 0 && memcmp(s1, k, 32) == 0);
	CHECK(crypto_scalarmult(s2, b_sk, a_pk) == 0 && memcmp(s2, k, 32) == 0);
}

TEST(chacha20poly1305_ietf_rfc8439_2_8_2)
{
	static const char *pt_s = "Ladies and Gentlemen of the class of '99: If I could offer you "
				  "only one tip for the future, sunscreen would be it.";
	unsigned char key[32], nonce[12], aad[12], want[114 + 16], c[114 + 16], m[114];
	unsigned long long clen = 0, mlen = 0;
	size_t ptlen = strlen(pt_s);

	CHECK(ptlen == 114);
	unhex(key, 32, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	unhex(nonce, 12, "070000004041424344454647");
	unhex(aad, 12, "50515253c0c1c2c3c4c5c6c7");
	unhex(want, sizeof want,
	      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e"
	      "8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c"
	      "9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d265"
	      "86cec64b6116" "1ae10b594f09e26a7e902ecbd0600691");
	CHECK(crypto_aead_chacha20poly1305_ietf_encrypt(c, &clen, (const unsigned char *)pt_s,
		ptlen, aad, sizeof aad, NULL, nonce, key) == 0);
	CHECK(clen == sizeof want && memcmp(c, want, sizeof want) == 0);
	CHECK(crypto_aead_chacha20poly1305_ietf_decrypt(m, &mlen, NULL, c, clen, aad, sizeof aad,
		nonce, key) == 0);
	CHECK(mlen == ptlen && memcmp(m, pt_s, ptlen) == 0);
	aad[0] ^= 1;
	CHECK(crypto_aead_chacha20poly1305_ietf_decrypt(m, &mlen, NULL, c, clen, aad, sizeof aad,
		nonce, key) != 0);
}

/* XChaCha20-Poly1305 and secretstream have no RFC vectors: check them
 * against each other's invariants (round trip, tamper, tags, rekey). */
TEST(xchacha20poly1305_aead_and_secretstream)
{
	unsigned char key[32], nonce[24], m[1000], c[1000 + 16], d[1000];
	unsigned long long clen, dlen;
	crypto_secretstream_xchacha20poly1305_state push, pull;
	unsigned char hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES], tag;

	randombytes_buf(key, 32), randombytes_buf(nonce, 24), randombytes_buf(m, sizeof m);
	CHECK(crypto_aead_xchacha20poly1305_ietf_encrypt(c, &clen, m, sizeof m, NULL, 0, NULL, nonce, key) == 0);
	CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(d, &dlen, NULL, c, clen, NULL, 0, nonce, key) == 0);
	CHECK(dlen == sizeof m && memcmp(d, m, sizeof m) == 0);
	nonce[23] ^= 1;
	CHECK(crypto_aead_xchacha20poly1305_ietf_decrypt(d, &dlen, NULL, c, clen, NULL, 0, nonce, key) != 0);

	crypto_secretstream_xchacha20poly1305_init_push(&push, hdr, key);
	CHECK(crypto_secretstream_xchacha20poly1305_init_pull(&pull, hdr, key) == 0);
	for (int i = 0; i < 3; i++) {
		unsigned char t = i == 1 ? crypto_secretstream_xchacha20poly1305_TAG_REKEY
			: i == 2 ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
			: crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
		CHECK(crypto_secretstream_xchacha20poly1305_push(&push, c, &clen, m + i, 500, NULL, 0, t) == 0);
		CHECK(crypto_secretstream_xchacha20poly1305_pull(&pull, d, &dlen, &tag, c, clen, NULL, 0) == 0);
		CHECK(dlen == 500 && memcmp(d, m + i, 500) == 0 && tag == t);
	}
}

int main(void)
{
	check_begin("kat_test");
	if (!mkdtemp(tmpdir)) {
		printf("FAIL: kat_test/setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	RUN(zstd_kernel_compress_cli_decompress);
	RUN(zstd_cli_compress_kernel_decompress);
	RUN(zstd_streaming_both_ways);
	RUN(zstd_dictionary_and_prefix_match_cli);
	RUN(sodium_init_with_custom_randombytes);
	RUN(blake2b_rfc7693_abc);
	RUN(blake2b_reference_keyed_vectors);
	RUN(ed25519_rfc8032_tests_1_to_3);
	RUN(x25519_rfc7748_section_6_1);
	RUN(chacha20poly1305_ietf_rfc8439_2_8_2);
	RUN(xchacha20poly1305_aead_and_secretstream);
	run("rm -rf %s", tmpdir, "", "");
	return check_done();
}
