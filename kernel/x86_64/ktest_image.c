/* ktest_image.c — test=image: a whole persist/ image (store, lazy arena,
 * snapshot engine) on virtio-blk. image=create writes generation gen= and
 * commits; image=check verifies gen= (from this kernel or the hosted build)
 * and, with write=G, commits generation G on top; image=run commits a
 * counter forever (for a power cut); image=recover checks the counter's two
 * pages agree and prints it. Contents: tests/qemu/image_pattern.h. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "kcmd.h"
#include "ktest.h"
#include "persist/image.h"
#include "persist/mutator.h"
#include "plat.h"
#include "tests/qemu/image_pattern.h"

#define SYNC_TIMEOUT_NS (30ul * 1000000000ul)

static struct pst_mutator *img_mut;

static int img_sync(struct pst_image *img, uint64_t *epoch)
{
	pst_mut_block(img_mut);
	int rc = pst_image_sync(img, SYNC_TIMEOUT_NS, epoch);
	pst_mut_unblock(img_mut);
	return rc;
}

static int img_close(struct pst_image *img, bool final)
{
	pst_mut_block(img_mut);
	int rc = pst_image_close(img, final);
	pst_mut_unblock(img_mut);
	return rc;
}

void ktest_image(void)
{
	const char *mode = kcmd_get("image");
	uint64_t gen = kcmd_get_u64("gen", 0), epoch = 0;
	struct plat_blk *blk = NULL;
	struct pst_mut_registry *reg = NULL;
	struct pst_image *img = NULL;
	char why[160] = "";

	KT_CHECK(mode != NULL, "mode_given");
	KT_CHECK(plat_blk_open("vda", 0, 0, &blk) == 0, "open_vda");
	KT_CHECK(pst_mut_registry_new(&reg) == 0 && pst_mut_register(reg, &img_mut) == 0,
		 "mutator");
	if (mode == NULL || blk == NULL || img_mut == NULL)
		kt_finish();
	struct pst_image_config cfg = { .blk = blk, .arena_size = IMGPAT_ARENA,
					.world = pst_mut_world(reg) };
	int rc = strcmp(mode, "create") == 0 || strcmp(mode, "run") == 0
		? pst_image_create(&cfg, &img, why, sizeof(why))
		: pst_image_open(&cfg, &img, why, sizeof(why));
	if (rc != 0)
		kprintf("image: %s: %s (%d)\n", mode, why, rc);
	KT_CHECK(rc == 0, "image_opened");
	if (rc != 0)
		kt_finish();
	uint8_t *base = pst_image_base(img);

	if (strcmp(mode, "create") == 0) {
		KT_CHECK(imgpat_write_image(img, gen) == 0, "write");
		KT_CHECK(img_sync(img, &epoch) == 0, "commit");
		kprintf("IMAGE committed gen %lu epoch %lu\n", gen, epoch);
	} else if (strcmp(mode, "check") == 0) {
		KT_CHECK(imgpat_check(base, gen), "contents_match");
		uint64_t next = kcmd_get_u64("write", 0);
		if (next != 0) {
			KT_CHECK(imgpat_write_image(img, next) == 0, "write_next");
			KT_CHECK(img_sync(img, &epoch) == 0, "commit_next");
		}
	} else if (strcmp(mode, "run") == 0) {
		uint64_t *a = (uint64_t *)(base + IMGPAT_CTR_A * 4096ul);
		uint64_t *b = (uint64_t *)(base + IMGPAT_CTR_B * 4096ul);
		for (uint64_t k = 1;; k++) {
			*a = k;
			*b = k;
			if (img_sync(img, &epoch) != 0) {
				kt_check(false, "commit_loop", "a sync failed");
				kt_finish();
			}
			kprintf("IMAGE committed counter %lu epoch %lu\n", k, epoch);
		}
	} else if (strcmp(mode, "recover") == 0) {
		uint64_t a = *(uint64_t *)(base + IMGPAT_CTR_A * 4096ul);
		uint64_t b = *(uint64_t *)(base + IMGPAT_CTR_B * 4096ul);
		KT_CHECK(a == b && a > 0, "counter_pages_agree");
		kprintf("IMAGE recovered counter %lu\n", a);
	} else {
		kt_check(false, "mode_known", mode);
	}
	KT_CHECK(img_close(img, false) == 0, "close");
	kt_finish();
}
