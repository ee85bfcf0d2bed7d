/* kapp.c — the default boot path: persist/ image on vda → the VM (vm/) in its
 * arena → run the app's threads → commit. The same image the hosted node
 * runs (formatted there by cluster tools or here). One mutator, the boot
 * thread; snapshots happen only at the end (no clock yet). */
#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "kapp.h"
#include "persist/image.h"
#include "persist/mutator.h"
#include "plat.h"
#include "vm/vm.h"

#define KAPP_SLICE      10000           /* safepoint polls per thread turn */
#define KAPP_SYNC_NS    (30ul * 1000000000ul)

int kapp_run(void)
{
	struct plat_blk *blk = NULL;
	struct pst_mut_registry *reg = NULL;
	struct pst_mutator *mut = NULL;
	struct pst_image *img = NULL;
	static struct vm_ctx vm;
	char why[160] = "";
	uint64_t epoch = 0;

	int rc = plat_blk_open("vda", 0, 0, &blk);
	if (rc < 0) {
		kprintf("app: no disk vda (%s)\n", err_str(rc));
		return rc;
	}
	if ((rc = pst_mut_registry_new(&reg)) < 0 || (rc = pst_mut_register(reg, &mut)) < 0)
		return rc;
	struct pst_image_config cfg = { .blk = blk, .world = pst_mut_world(reg) };
	rc = pst_image_open(&cfg, &img, why, sizeof(why));
	if (rc < 0) {
		kprintf("app: vda holds no image: %s (%s)\n", why, err_str(rc));
		return rc;
	}
	rc = vm_attach(&vm, pst_image_base(img), pst_image_size(img));
	if (rc < 0) {
		kprintf("app: the image holds no VM: %s (%s)\n", vm.err, err_str(rc));
	} else {
		kprintf("app: image epoch %lu, running the VM\n",
			pst_snap_committed_epoch(pst_image_snap(img)));
		int failed = vm_run_all(&vm, KAPP_SLICE);
		kprintf("app: finished, %d thread(s) failed%s%s\n", failed,
			failed ? ": " : "", failed ? vm.err : "");
		pst_mut_block(mut);
		rc = pst_image_sync(img, KAPP_SYNC_NS, &epoch);
		pst_mut_unblock(mut);
		if (rc == 0)
			kprintf("app: committed epoch %lu\n", epoch);
		else
			kprintf("app: commit failed (%s)\n", err_str(rc));
	}
	pst_mut_block(mut);
	int crc = pst_image_close(img, false);
	pst_mut_unblock(mut);
	return rc < 0 ? rc : crc;
}
