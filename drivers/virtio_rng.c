/* virtio_rng.c — virtio-rng (virtio 1.x spec 5.4): one queue of
 * device-writable buffers; each completion says how many random bytes it
 * wrote (possibly fewer than asked). Polled, one request at a time (a
 * mutex), through one page of bounce memory. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "ksync.h"
#include "memlayout.h"
#include "pci.h"
#include "pmm.h"
#include "virtio_legacy.h"
#include "virtio_rng.h"

#define VRNG_DEVICE_ID   0x1005         /* transitional virtio-rng */
#define VRNG_TIMEOUT_NS  (5ul * 1000000000ul)

static struct drv_virtq vrng_q;
static uint64_t vrng_buf_pa;
static bool vrng_up, vrng_failed;
static struct ksync_mutex vrng_lock;    /* guards the queue and buffer */

int drv_vrng_init(void)
{
	if (vrng_up)
		return 0;
	const struct drv_pci_dev *d = drv_pci_find(VIRTIO_PCI_VENDOR, VRNG_DEVICE_ID, 0);
	if (d == NULL)
		return -ERR_NOENT;
	uint16_t io = drv_pci_io_bar(d, 0);
	if (io == 0)
		return -ERR_NOTSUP;
	drv_pci_enable(d);
	drv_virtio_start(io, 0);
	int rc = drv_virtq_init(&vrng_q, io, 0);
	if (rc == 0 && (vrng_buf_pa = pmm_alloc_zeroed()) == 0)
		rc = -ERR_NOMEM;
	if (rc < 0) {
		drv_virtio_fail(io);
		return rc;
	}
	drv_virtio_ready(io);
	vrng_up = true;
	return 0;
}

int drv_vrng_read(void *buf, size_t len)
{
	if (!vrng_up)
		return -ERR_NOENT;
	uint8_t *out = buf;
	int rc = 0;
	ksync_mutex_lock(&vrng_lock);
	while (len > 0) {
		uint32_t want = len > PMM_PAGE ? PMM_PAGE : (uint32_t)len, got = 0;
		struct drv_virtq_buf b = { vrng_buf_pa, want, true };
		if (vrng_failed || drv_virtq_run(&vrng_q, &b, 1, VRNG_TIMEOUT_NS, &got) < 0) {
			vrng_failed = true;
			rc = -ERR_IO;
			break;
		}
		if (got > want)
			got = want;
		memcpy(out, phys_to_virt(vrng_buf_pa), got);
		out += got;
		len -= got;
	}
	ksync_mutex_unlock(&vrng_lock);
	return rc;
}
