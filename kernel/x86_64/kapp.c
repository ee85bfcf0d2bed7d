/* kapp.c — the default boot path: the node runtime (replication/node.h) on
 * the image on vda, the same code the hosted phantomd runs. A blank disk
 * (both superblocks empty) becomes a new image holding the default app
 * (vm/apps/, embedded by deploy/node.mk). Command line: snapshot_ms=N
 * (default 50; up to 600000 for batch programs that need few epochs),
 * outcommit=0 (output at once, not held until committed), arena_mb=N (a new
 * image's arena, default 64), cow_pages=N (copy-on-write budget),
 * image=vdX (the disk holding the image, default vda), node=N (this node's
 * id in a cluster; reported at boot until replication uses it). The
 * power button (ACPI) stops the node at its next safepoint; the final
 * snapshot is committed before kapp_run returns. */
#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "cpu.h"
#include "kapp.h"
#include "kcmd.h"
#include "plat.h"
#include "power.h"
#include "replication/node.h"

#include "replication/default_app.h"

#define KAPP_SYNC_NS    (30ul * 1000000000ul)

static volatile bool kapp_stopping;
static struct node *volatile kapp_node;     /* while node_run may run */

/* On the power-button thread: stop the running node, or, once the app has
 * ended (the kernel console runs), turn the machine off. */
static void on_power_button(void *arg)
{
	(void)arg;
	uint64_t f = cpu_save_irq();
	struct node *n = kapp_node;
	if (n != NULL) {
		kapp_stopping = true;
		node_stop(n);
	}
	cpu_restore_irq(f);
	if (n != NULL) {
		kprintf("app: power button: stopping at the next safepoint, then a final snapshot\n");
	} else {
		kprintf("phantom: power button: powering off\n");
		power_off();
	}
}

int kapp_run(bool *stopped)
{
	struct plat_blk *blk = NULL;
	struct node *n = NULL;
	char why[200] = "";

	const char *disk = kcmd_get("image");
	if (disk == NULL)
		disk = "vda";
	kprintf("app: node %lu, image on %s\n", kcmd_get_u64("node", 1), disk);
	int rc = plat_blk_open(disk, 0, 0, &blk);
	if (rc < 0) {
		kprintf("app: no disk %s (%s)\n", disk, err_str(rc));
		return rc;
	}
	uint64_t snap_ms = kcmd_get_u64("snapshot_ms", 50);
	if (snap_ms == 0 || snap_ms > 600000) {
		kprintf("app: snapshot_ms=%lu is out of range 1..600000; using 50\n", snap_ms);
		snap_ms = 50;
	}
	struct node_config cfg = {
		.blk = blk,
		.arena_size = kcmd_get_u64("arena_mb", 64) << 20,
		.interval_ns = snap_ms * 1000000ul,
		.cow_pages = (uint32_t)kcmd_get_u64("cow_pages", 0),
		.output_commit = kcmd_get_u64("outcommit", 1) != 0,
		.console_poll = true,          /* the shell reads the serial console */
		.classes = node_app_classes, .nclasses = node_app_nclasses,
		.entry_class = "Ticker", .entry_method = "main",
	};
	rc = node_boot(&cfg, &n, why, sizeof(why));
	if (rc == -ERR_NOENT && node_app_nclasses > 0) {
		/* Both superblocks empty: a blank disk, never a foreign one. */
		kprintf("app: %s is blank; creating an image with the default app\n", disk);
		cfg.create = true;
		rc = node_boot(&cfg, &n, why, sizeof(why));
	}
	if (rc < 0) {
		kprintf("app: cannot boot the image on %s: %s (%s)\n", disk, why, err_str(rc));
		plat_blk_close(blk);
		return rc;
	}
	kapp_node = n;
	if (power_watch_button(on_power_button, NULL) == 0)
		kprintf("app: the power button stops this node cleanly\n");
	kprintf("app: image epoch %lu, running the VM\n", node_boot_epoch(n));

	struct node_run_result res;
	rc = node_run(n, &res);
	uint64_t f = cpu_save_irq();
	kapp_node = NULL;
	cpu_restore_irq(f);
	/* The app has ended: commit its last state and release its output
	 * before saying so. */
	uint64_t epoch = 0;
	int src = node_final_sync(n, KAPP_SYNC_NS, &epoch);
	*stopped = kapp_stopping;
	if (kapp_stopping)
		kprintf("app: stopped, %u thread(s) failed%s%s\n", res.failed,
			res.failed ? ": " : "", res.failed ? res.err : "");
	else
		kprintf("app: finished, %u thread(s) failed%s%s\n", res.failed,
			res.failed ? ": " : "", res.failed ? res.err : "");
	if (src == 0)
		kprintf("app: committed epoch %lu\n", epoch);
	else
		kprintf("app: commit failed (%s)\n", err_str(src));
	int crc = node_shutdown(n, false);
	plat_blk_close(blk);
	return rc < 0 ? rc : src < 0 ? src : crc;
}
