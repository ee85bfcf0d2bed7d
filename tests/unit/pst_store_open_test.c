/* pst_store_open_test.c — the superblock checks of pst_store_open and
 * pst_store_sb_decode that no other test reaches: two valid superblocks
 * claiming the same epoch, or disagreeing on device or arena size; a
 * damaged newest tree whose other slot is not its predecessor (no
 * fallback); a root checksum without a root block; non-zero reserved bytes
 * (and meta bytes past meta_len). Each forged superblock starts as a real
 * store's: decoded, one field changed, re-encoded with its BLAKE2b sum (or,
 * for what the encoder cannot write, patched bytes re-summed the way it
 * does). Every refused open must name the problem and leave the disk as it
 * was: no write, no flush, the same bytes. pst_store_test.c owns the rest
 * of the store's behaviour. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "ram_blk.h"
#include "../../persist/store_int.h"      /* the superblock codec */
#include "../../kernel/hosted/hosted.h"   /* tests get only -Ikernel/include */

#define PG 4096u
#define NP 700u       /* two map levels */

/* ---- in-memory disk that counts what is done to it ------------------ */
static struct ram_blk ram;
static struct plat_blk *const dev = &ram.pub;

/* A fresh zeroed disk of `blocks` blocks, with room to grow to `cap`. */
static void disk_new(uint64_t blocks, uint64_t cap)
{
	free(ram.data);
	ram_blk_init(&ram, calloc(cap, PG), blocks * PG);
}

/* Epoch e's changes: a few pages written, one dropped. */
static int commit_epoch(struct pst_store *s, uint64_t e)
{
	static uint8_t page[PG];
	struct pst_txn *t;
	int rc = pst_txn_begin(s, e, &t);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < 6 && rc == 0; i++) {
		uint64_t p = (e * 37 + i * 113) % NP;
		memset(page, (int)(e * 16 + i + 1), PG);
		memcpy(page, &p, sizeof p);
		rc = pst_txn_put_page(t, p, page);
	}
	if (rc == 0)
		rc = pst_txn_drop_page(t, (e * 37 + 113) % NP);
	if (rc == 0)
		rc = pst_txn_commit(t);
	if (rc)
		pst_txn_abort(t);
	return rc;
}

/* A store of NP pages on a disk of `blocks` blocks with epochs 1..last
 * committed, closed again. */
static int store_new(uint64_t blocks, uint64_t cap, uint64_t last)
{
	struct pst_store *s;
	disk_new(blocks, cap);
	int rc = pst_store_format(dev, NP, &s);
	if (rc)
		return rc;
	for (uint64_t e = 1; e <= last && rc == 0; e++)
		rc = commit_epoch(s, e);
	pst_store_close(s);
	return rc;
}

/* ---- superblocks, through the store's own codec ---------------------- */
static uint8_t *slot_bytes(uint32_t slot) { return ram.data + (uint64_t)slot * PG; }

static int sb_get(uint32_t slot, struct pst_sb *sb)
{
	char why[160];
	return pst_store_sb_decode(slot_bytes(slot), slot, ram.pub.size, sb, why,
				   sizeof why);
}

/* Writes sb (encoded, checksummed) into its own slot. */
static void sb_put(const struct pst_sb *sb)
{
	pst_store_sb_encode(sb, slot_bytes(sb->slot));
}

/* After patching a slot's bytes by hand: its BLAKE2b sum again, as the
 * encoder computes it, so only the patched check can object. */
static void resum(uint32_t slot)
{
	uint8_t *b = slot_bytes(slot);
	crypto_generichash(b + PST_SB_SUM_OFF, 32, b, PST_SB_SUM_OFF, NULL, 0);
}

static uint32_t newest_slot(void)
{
	struct pst_sb a, b;
	if (sb_get(0, &a) != 0)
		return 1;
	if (sb_get(1, &b) != 0)
		return 0;
	return a.epoch > b.epoch ? 0 : 1;
}

/* ---- the open under test --------------------------------------------- */
/* Opens the disk, which must be refused with `want` and a message holding
 * need1 and need2 (either may be NULL), without a write or flush and with
 * every byte as before. NULL, or what went wrong. */
static const char *refused(int want, const char *need1, const char *need2)
{
	static char msg[1024];
	char why[512];
	struct pst_store *s = NULL;
	uint8_t *before = malloc(ram.pub.size);
	if (before == NULL)
		return "out of memory";
	memcpy(before, ram.data, ram.pub.size);
	ram.writes = ram.flushes = 0;
	int rc = pst_store_open(dev, &s, why, sizeof why);
	msg[0] = 0;
	if (rc == 0)
		snprintf(msg, sizeof msg, "open succeeded at epoch %llu (notice "
			 "\"%.300s\"), want rc %d",
			 (unsigned long long)pst_store_epoch(s), why, want);
	else if (rc != want)
		snprintf(msg, sizeof msg, "open: rc %d, want %d: %.400s", rc, want, why);
	else if (s != NULL)
		snprintf(msg, sizeof msg, "failed open handed out a store");
	else if ((need1 && !strstr(why, need1)) || (need2 && !strstr(why, need2)))
		snprintf(msg, sizeof msg, "message \"%.400s\", want \"%s\" and "
			 "\"%s\"", why, need1 ? need1 : "", need2 ? need2 : "");
	else if (ram.writes || ram.flushes)
		snprintf(msg, sizeof msg, "failed open wrote %llu times and "
			 "flushed %llu times", (unsigned long long)ram.writes,
			 (unsigned long long)ram.flushes);
	else
		for (uint64_t i = 0; i < ram.pub.size; i++)
			if (before[i] != ram.data[i]) {
				snprintf(msg, sizeof msg, "failed open changed byte "
					 "%llu (block %llu)", (unsigned long long)i,
					 (unsigned long long)(i / PG));
				break;
			}
	if (s != NULL)
		pst_store_close(s);
	free(before);
	return msg[0] ? msg : NULL;
}

/* Opens the disk, which must succeed at `epoch`; fell_back as given. */
static const char *opens_at(uint64_t epoch, bool fell_back, const char *need)
{
	static char msg[1024];
	char why[512];
	struct pst_store *s;
	int rc = pst_store_open(dev, &s, why, sizeof why);
	if (rc != 0) {
		snprintf(msg, sizeof msg, "open: rc %d: %.400s", rc, why);
		return msg;
	}
	msg[0] = 0;
	if (pst_store_epoch(s) != epoch || pst_store_fell_back(s) != fell_back)
		snprintf(msg, sizeof msg, "opened epoch %llu (fell back %d), want "
			 "%llu (%d): %.400s", (unsigned long long)pst_store_epoch(s),
			 pst_store_fell_back(s), (unsigned long long)epoch,
			 fell_back, why);
	else if (need && !strstr(why, need))
		snprintf(msg, sizeof msg, "notice \"%.400s\" lacks \"%s\"", why, need);
	pst_store_close(s);
	return msg[0] ? msg : NULL;
}

/* The forged slot was the only problem: with its saved bytes back, the
 * disk opens at `epoch` (fell_back as given). */
static const char *put_back_opens(uint32_t slot, const uint8_t *saved,
				  uint64_t epoch, bool fell_back)
{
	memcpy(slot_bytes(slot), saved, PG);
	return opens_at(epoch, fell_back, NULL);
}

/* Frees the disk at a test's end. */
static void disk_free(void)
{
	free(ram.data);
	ram.data = NULL;
}

/* ---- two valid superblocks that cannot both be true ------------------ */
TEST(same_epoch_refused)
{
	static uint8_t saved[PG];
	struct pst_sb nw, old;
	CHECK_EQ(store_new(256, 256, 4), 0);
	uint32_t n = newest_slot(), o = n ^ 1;
	CHECK_EQ(sb_get(n, &nw), 0);
	CHECK_EQ(sb_get(o, &old), 0);
	CHECK(nw.epoch == 4 && nw.prev_epoch == 3 && old.epoch == 3);
	memcpy(saved, slot_bytes(o), PG);
	old.epoch = nw.epoch;
	sb_put(&old);
	CHECK_EQ(sb_get(o, &old), 0);            /* valid on its own */
	const char *m = refused(-ERR_CORRUPT, "both superblocks claim the same "
				"epoch", "(epochs 4 and 4)");
	CHECKF(m == NULL, "%s", m);
	m = put_back_opens(o, saved, 4, false);
	CHECKF(m == NULL, "%s", m);
	disk_free();
}

/* A superblock from a differently sized store (or a grown device) next to
 * this one's: neither size can be trusted. */
TEST(size_disagreement_refused)
{
	static uint8_t saved[PG];
	struct pst_sb old;
	char want[64];
	/* The device grew to 300 blocks: a superblock saying so is valid. */
	CHECK_EQ(store_new(256, 300, 4), 0);
	ram.pub.size = 300 * PG;
	uint32_t o = newest_slot() ^ 1;
	memcpy(saved, slot_bytes(o), PG);
	for (int what = 0; what < 2; what++) {
		CHECK_EQ(sb_get(o, &old), 0);
		CHECK(old.epoch == 3 && old.dev_blocks == 256 && old.arena_pages == NP);
		if (what == 0)
			old.dev_blocks = 300;
		else
			old.arena_pages = NP + 1;        /* same map height */
		sb_put(&old);
		CHECK_EQ(sb_get(o, &old), 0);
		snprintf(want, sizeof want, "(epochs %llu and %llu)",
			 o == 0 ? 3ull : 4ull, o == 0 ? 4ull : 3ull);
		const char *m = refused(-ERR_CORRUPT, "the superblocks disagree on "
					"device or arena size", want);
		CHECKF(m == NULL, "%s %s", what ? "arena_pages:" : "dev_blocks:", m);
		m = put_back_opens(o, saved, 4, false);
		CHECKF(m == NULL, "%s", m);
	}
	disk_free();
}

/* The newest tree is damaged and the other slot holds an older epoch than
 * its predecessor: its blocks may have been reused since, so no fallback. */
TEST(fallback_to_non_predecessor_refused)
{
	static uint8_t saved[PG];
	struct pst_sb nw, old;
	char want[2][128];
	CHECK_EQ(store_new(256, 256, 4), 0);
	uint32_t n = newest_slot(), o = n ^ 1;
	CHECK_EQ(sb_get(n, &nw), 0);
	CHECK_EQ(sb_get(o, &old), 0);
	CHECK(nw.prev_epoch == 3 && old.epoch == 3);
	CHECK(nw.root.blk >= PST_FIRST_DATA && old.root.blk >= PST_FIRST_DATA &&
	      nw.root.blk != old.root.blk);
	ram.data[nw.root.blk * PG + 100] ^= 0x10;      /* the newest root map */
	/* With the true predecessor in place, open falls back to it. */
	const char *m = opens_at(3, true, "fell back from epoch 4 to epoch 3");
	CHECKF(m == NULL, "%s", m);
	memcpy(saved, slot_bytes(o), PG);
	old.epoch = 2;
	old.prev_epoch = 1;
	sb_put(&old);
	CHECK_EQ(sb_get(o, &old), 0);
	snprintf(want[0], sizeof want[0], "map block %llu (level 0",
		 (unsigned long long)nw.root.blk);
	snprintf(want[1], sizeof want[1], "fallback refused: superblock %u holds "
		 "epoch 2, not the predecessor 3", o);
	m = refused(-ERR_CORRUPT, want[0], want[1]);
	CHECKF(m == NULL, "%s", m);
	m = put_back_opens(o, saved, 3, true);
	CHECKF(m == NULL, "%s", m);
	disk_free();
}

/* ---- fields the format fixes to zero ---------------------------------- */
/* root_sum is 0 when root_blk is 0: as written for an empty store, by
 * format and by a commit that drops every page; refused otherwise. */
TEST(root_sum_without_root_refused)
{
	static uint8_t saved[PG];
	struct pst_store *s;
	struct pst_txn *t;
	struct pst_sb sb;
	/* Format alone: epoch 0 in slot 0, slot 1 empty. */
	CHECK_EQ(store_new(64, 64, 0), 0);
	CHECK_EQ(sb_get(0, &sb), 0);
	CHECK(sb.epoch == 0 && sb.root.blk == 0 && sb.root.sum == 0);
	for (unsigned i = 56; i < 72; i++)
		CHECK_EQ(slot_bytes(0)[i], 0);
	memcpy(saved, slot_bytes(0), PG);
	sb.root.sum = 0x5a;
	sb_put(&sb);
	const char *m = refused(-ERR_CORRUPT, "no usable superblock: superblock 0 "
				"(epoch 0): root checksum is not 0 but there is "
				"no root block", "superblock 1 (block 1) is empty");
	CHECKF(m == NULL, "%s", m);
	m = put_back_opens(0, saved, 0, false);
	CHECKF(m == NULL, "%s", m);

	/* Emptied by commits: epoch 2 drops what epoch 1 wrote. */
	CHECK_EQ(store_new(64, 64, 1), 0);
	CHECK_EQ(pst_store_open(dev, &s, NULL, 0), 0);
	CHECK_EQ(pst_txn_begin(s, 2, &t), 0);
	for (uint64_t p = 0; p < NP; p++)
		CHECK_EQ(pst_txn_drop_page(t, p), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	pst_store_close(s);
	CHECK_EQ(sb_get(0, &sb), 0);
	CHECK(sb.epoch == 2 && sb.root.blk == 0 && sb.root.sum == 0 &&
	      sb.used_blocks == PST_FIRST_DATA);
	for (unsigned i = 56; i < 72; i++)
		CHECK_EQ(slot_bytes(0)[i], 0);
	m = opens_at(2, false, NULL);
	CHECKF(m == NULL, "%s", m);
	/* Forged there, open falls back to epoch 1, saying why. */
	sb.root.sum = 1;
	sb_put(&sb);
	m = opens_at(1, true, "superblock 0 (epoch 2): root checksum is not 0");
	CHECKF(m == NULL, "%s", m);
	disk_free();
}

/* Reserved bytes, and meta bytes past meta_len, are zero; a superblock
 * with any other byte there (checksum and all else valid) is refused. */
TEST(stray_bytes_refused)
{
	static uint8_t saved[PG];
	struct pst_store *s;
	struct pst_txn *t;
	struct pst_sb sb;
	char want[96];
	/* Epoch 1 with a 5-byte meta blob in slot 1; slot 0 then zeroed by
	 * hand (an empty slot, as a wiped one), so only slot 1 counts. */
	CHECK_EQ(store_new(64, 64, 0), 0);
	CHECK_EQ(pst_store_open(dev, &s, NULL, 0), 0);
	CHECK_EQ(pst_txn_begin(s, 1, &t), 0);
	CHECK_EQ(pst_txn_set_meta(t, "roots", 5), 0);
	CHECK_EQ(pst_txn_commit(t), 0);
	pst_store_close(s);
	memset(slot_bytes(0), 0, PG);
	CHECK_EQ(sb_get(1, &sb), 0);
	CHECK(sb.epoch == 1 && sb.meta_len == 5);
	memcpy(saved, slot_bytes(1), PG);
	/* What the writer left there is zero. */
	for (unsigned i = PST_SB_RSVD_OFF; i < PST_SB_META_OFF; i++)
		CHECK_EQ(saved[i], 0);
	for (unsigned i = PST_SB_META_OFF + 5; i < PST_SB_SUM_OFF; i++)
		CHECK_EQ(saved[i], 0);
	static const struct { unsigned off; const char *what; } cases[] = {
		{ 84, "reserved" }, { 127, "reserved" },
		{ 133, "meta blob past meta_len" },
		{ 1151, "meta blob past meta_len" },
		{ 1152, "reserved" }, { 4063, "reserved" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		slot_bytes(1)[cases[i].off] = 0x80;
		resum(1);
		snprintf(want, sizeof want, "superblock 1 (epoch 1): byte %u is not "
			 "zero (%s)", cases[i].off, cases[i].what);
		const char *m = refused(-ERR_CORRUPT, "no usable superblock", want);
		CHECKF(m == NULL, "byte %u: %s", cases[i].off, m);
		memcpy(slot_bytes(1), saved, PG);
	}
	/* The last byte of the blob is meta, not reserved. */
	slot_bytes(1)[PST_SB_META_OFF + 4] = '!';
	resum(1);
	const char *m = opens_at(1, false, NULL);
	CHECKF(m == NULL, "%s", m);
	disk_free();
}

int main(void)
{
	check_begin("pst_store_open_test");
	if (plat_hosted_init() != 0) {
		printf("FAIL: pst_store_open_test/setup: plat_hosted_init\n");
		return 1;
	}
	RUN(same_epoch_refused);
	RUN(size_disagreement_refused);
	RUN(fallback_to_non_predecessor_refused);
	RUN(root_sum_without_root_refused);
	RUN(stray_bytes_refused);
	free(ram.data);
	return check_done();
}
