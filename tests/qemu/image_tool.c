/* image_tool.c — the hosted half of the image portability test: opens an
 * image file with the hosted node's persist/ and checks or writes the
 * generations of tests/qemu/image_pattern.h, so an image made by the kernel
 * is read here and one made here is read by the kernel.
 *   image_tool FILE create GEN       format a fresh image holding GEN
 *   image_tool FILE check GEN [NEXT] verify GEN, then commit NEXT if given
 *   image_tool FILE app PASM         a fresh image whose arena is a VM with
 *                                    PASM's class loaded and Main.main
 *                                    started (the kernel boots and runs it)
 * Prints "image_tool: ok ..." and exits 0, or says why and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster-tools/asm/asm.h"
#include "hosted.h"
#include "persist/image.h"
#include "persist/mutator.h"
#include "tests/qemu/image_pattern.h"
#include "vm/vm.h"

static struct pst_mutator *mut;

static int sync_img(struct pst_image *img)
{
	pst_mut_block(mut);
	int rc = pst_image_sync(img, 30000000000ull, NULL);
	pst_mut_unblock(mut);
	return rc;
}

static int fail(const char *what, int rc, const char *why)
{
	fprintf(stderr, "image_tool: %s failed: %s (%s)\n", what, err_str(rc), why);
	return 1;
}

/* Formats the arena as a VM, loads the assembled class, starts Main.main. */
static int make_app(void *base, const char *pasm)
{
	static char text[1 << 20];
	char err[256] = "";
	FILE *f = fopen(pasm, "rb");
	size_t len = f ? fread(text, 1, sizeof text, f) : 0;
	if (f)
		fclose(f);
	if (f == NULL || len == 0 || len == sizeof text)
		return fail("read", -ERR_IO, pasm);
	uint8_t *cls = NULL;
	size_t n = 0;
	if (pasm_assemble(pasm, text, len, &cls, &n, err, sizeof err) != 0)
		return fail("assemble", -ERR_INVAL, err);
	struct vm_ctx ctx = { 0 };
	uint32_t id;
	int rc = vm_format(&ctx, base, IMGPAT_ARENA);
	if (rc == 0)
		rc = vm_load(&ctx, cls, n);
	if (rc == 0)
		rc = vm_thread_start(&ctx, "Main", "main", &id);
	free(cls);
	return rc == 0 ? 0 : fail("vm", rc, ctx.err);
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[2], "create") && strcmp(argv[2], "check") &&
			 strcmp(argv[2], "app"))) {
		fprintf(stderr, "usage: image_tool FILE create GEN | FILE check GEN [NEXT]"
			" | FILE app PASM\n");
		return 2;
	}
	bool app = strcmp(argv[2], "app") == 0;
	bool create = app || strcmp(argv[2], "create") == 0;
	uint64_t gen = app ? 0 : strtoull(argv[3], NULL, 10);
	uint64_t next = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
	struct plat_blk *blk = NULL;
	struct pst_mut_registry *reg = NULL;
	struct pst_image *img = NULL;
	char why[256] = "";
	int rc = plat_hosted_init();
	if (rc == 0)
		rc = plat_blk_open(argv[1], create ? PLAT_BLK_CREATE : 0, IMGPAT_DISK, &blk);
	if (rc == 0)
		rc = pst_mut_registry_new(&reg);
	if (rc == 0)
		rc = pst_mut_register(reg, &mut);
	if (rc != 0)
		return fail("setup", rc, argv[1]);
	struct pst_image_config cfg = { .blk = blk, .arena_size = IMGPAT_ARENA,
					.world = pst_mut_world(reg) };
	rc = create ? pst_image_create(&cfg, &img, why, sizeof why)
		    : pst_image_open(&cfg, &img, why, sizeof why);
	if (rc != 0)
		return fail("open", rc, why);
	void *base = pst_image_base(img);
	if (app) {
		if (make_app(base, argv[3]) != 0)
			return 1;
		if ((rc = sync_img(img)) != 0)
			return fail("commit", rc, "app");
	} else if (create) {
		if ((rc = imgpat_write_image(img, gen)) != 0 || (rc = sync_img(img)) != 0)
			return fail("commit", rc, "create");
	} else {
		if (!imgpat_check(base, gen)) {
			fprintf(stderr, "image_tool: contents are not generation %llu\n",
				(unsigned long long)gen);
			return 1;
		}
		if (next != 0) {
			if ((rc = imgpat_write_image(img, next)) != 0 || (rc = sync_img(img)) != 0)
				return fail("commit", rc, "next generation");
		}
	}
	pst_mut_block(mut);
	rc = pst_image_close(img, false);
	pst_mut_unblock(mut);
	if (rc != 0)
		return fail("close", rc, "");
	plat_blk_close(blk);
	printf("image_tool: ok %s %s%s\n", argv[2], argv[3],
	       next ? " and committed the next generation" : "");
	return 0;
}
