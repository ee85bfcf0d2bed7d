/* fs_sodium.c — the kernel build of libsodium, linked with the kernel libc
 * and run freestanding: custom randombytes, sodium_init, BLAKE2b (RFC 7693
 * "abc"), Ed25519 sign/verify, X25519 kx, secretstream. */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "fs_test.h"

static void rb_buf(void *const buf, const size_t size)
{
	if (fs_getrandom(buf, size) != 0)
		abort();
}

static uint32_t rb_random(void)
{
	uint32_t r;

	rb_buf(&r, sizeof r);
	return r;
}

static const char *rb_name(void) { return "fs-getrandom"; }

static struct randombytes_implementation rb_impl = {
	.implementation_name = rb_name,
	.random = rb_random,
	.buf = rb_buf,
};

int fs_main(void)
{
	int failures = 0;
	static const unsigned char abc_hash[64] = {
		0xBA, 0x80, 0xA5, 0x3F, 0x98, 0x1C, 0x4D, 0x0D, 0x6A, 0x27, 0x97, 0xB6,
		0x9F, 0x12, 0xF6, 0xE9, 0x4C, 0x21, 0x2F, 0x14, 0x68, 0x5A, 0xC4, 0xB7,
		0x4B, 0x12, 0xBB, 0x6F, 0xDB, 0xFF, 0xA2, 0xD1, 0x7D, 0x87, 0xC5, 0x39,
		0x2A, 0xAB, 0x79, 0x2D, 0xC2, 0x52, 0xD5, 0xDE, 0x45, 0x33, 0xCC, 0x95,
		0x18, 0xD3, 0x8A, 0xA8, 0xDB, 0xF1, 0x92, 0x5A, 0xB9, 0x23, 0x86, 0xED,
		0xD4, 0x00, 0x99, 0x23 };
	unsigned char h[64];

	randombytes_set_implementation(&rb_impl);
	FS_RESULT("fs_sodium", "sodium_init", sodium_init() == 0, "sodium_init failed");
	crypto_generichash(h, sizeof h, (const unsigned char *)"abc", 3, NULL, 0);
	FS_RESULT("fs_sodium", "blake2b_rfc7693_abc", memcmp(h, abc_hash, 64) == 0,
		  "digest differs");
	{
		unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
		unsigned char sig[crypto_sign_BYTES], msg[100];
		int ok, bad;
		crypto_sign_keypair(pk, sk);
		randombytes_buf(msg, sizeof msg);
		crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
		ok = crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0;
		msg[7] ^= 1;
		bad = crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0;
		FS_RESULT("fs_sodium", "ed25519_sign_verify", ok && bad, "ok=%d bad=%d", ok, bad);
	}
	{
		unsigned char cpk[32], csk[32], spk[32], ssk[32];
		unsigned char crx[32], ctx[32], srx[32], stx[32];
		int r1, r2;
		crypto_kx_keypair(cpk, csk);
		crypto_kx_keypair(spk, ssk);
		r1 = crypto_kx_client_session_keys(crx, ctx, cpk, csk, spk);
		r2 = crypto_kx_server_session_keys(srx, stx, spk, ssk, cpk);
		FS_RESULT("fs_sodium", "kx_session_keys_agree",
			  r1 == 0 && r2 == 0 && memcmp(crx, stx, 32) == 0 &&
			  memcmp(ctx, srx, 32) == 0 && memcmp(crx, ctx, 32) != 0,
			  "r1=%d r2=%d", r1, r2);
	}
	{
		unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
		unsigned char hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
		unsigned char c[64 + crypto_secretstream_xchacha20poly1305_ABYTES], m[64], p[64];
		crypto_secretstream_xchacha20poly1305_state st;
		unsigned long long mlen = 0;
		unsigned char tag = 0;
		int r, r2, same;
		for (int i = 0; i < 64; i++)
			p[i] = (unsigned char)(i * 7);
		crypto_secretstream_xchacha20poly1305_keygen(key);
		crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
		crypto_secretstream_xchacha20poly1305_push(&st, c, NULL,
			p, 64,
			NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
		crypto_secretstream_xchacha20poly1305_init_pull(&st, hdr, key);
		r = crypto_secretstream_xchacha20poly1305_pull(&st, m, &mlen, &tag, c, sizeof c, NULL, 0);
		same = r == 0 && mlen == 64 && memcmp(m, p, 64) == 0 &&
		       tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
		c[10] ^= 1;
		crypto_secretstream_xchacha20poly1305_init_pull(&st, hdr, key);
		r2 = crypto_secretstream_xchacha20poly1305_pull(&st, m, &mlen, &tag, c, sizeof c, NULL, 0);
		FS_RESULT("fs_sodium", "secretstream_roundtrip_and_forgery",
			  same && r2 != 0,
			  "r=%d r2=%d", r, r2);
	}
	return failures;
}
