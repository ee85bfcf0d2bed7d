/* virtio_blk.c — virtio-blk (virtio 1.x spec 5.2) on the legacy transport.
 * Each request is header + data + status through a bounce buffer that is
 * physically contiguous, so callers may pass any kernel memory. FLUSH is
 * negotiated and required: without it the device would not promise that
 * completed writes survive a power cut, and persist/ depends on that.
 * One request at a time (see virtio_legacy.c): a per-device mutex covers
 * each whole read, write or flush, so a caller's buffer must not be an arena
 * page that could fault (its fault path may need this same device). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "err.h"
#include "ksync.h"
#include "memlayout.h"
#include "pci.h"
#include "pmm.h"
#include "virtio_blk.h"
#include "virtio_legacy.h"

#define VBLK_DEVICE_ID   0x1001         /* transitional virtio-blk */
#define VBLK_F_FLUSH     (1u << 9)
#define VBLK_T_IN        0
#define VBLK_T_OUT       1
#define VBLK_T_FLUSH     4
#define VBLK_S_OK        0
#define VBLK_BOUNCE_PAGES 16            /* 64 KiB per request */
#define VBLK_MAX_DEVS    4
#define VBLK_TIMEOUT_NS  (10ul * 1000000000ul)

struct vblk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct vblk {
	struct plat_blk pub;
	struct drv_virtq q;
	uint16_t iobase;
	struct ksync_mutex lock;        /* guards the queue and bounce buffer */
	bool failed;                    /* a timeout: the device is unusable */
	struct vblk_hdr *hdr;           /* header, then the status byte */
	volatile uint8_t *status;
	uint64_t hdr_pa;
	uint8_t *bounce;
	uint64_t bounce_pa;
	char name[4];
};

static struct vblk vblk_devs[VBLK_MAX_DEVS];

static int vblk_request(struct vblk *v, uint32_t type, uint64_t sector, uint32_t len)
{
	if (v->failed)
		return -ERR_IO;
	v->hdr->type = type;
	v->hdr->reserved = 0;
	v->hdr->sector = sector;
	*v->status = 0xff;
	struct drv_virtq_buf b[3];
	unsigned n = 0;
	b[n++] = (struct drv_virtq_buf){ v->hdr_pa, sizeof(struct vblk_hdr), false };
	if (len > 0)
		b[n++] = (struct drv_virtq_buf){ v->bounce_pa, len, type == VBLK_T_IN };
	b[n++] = (struct drv_virtq_buf){ v->hdr_pa + sizeof(struct vblk_hdr), 1, true };
	int rc = drv_virtq_run(&v->q, b, n, VBLK_TIMEOUT_NS, NULL);
	if (rc < 0) {
		v->failed = true;
		kprintf("%s: request type %u timed out; device disabled\n", v->name, type);
		return -ERR_IO;
	}
	return *v->status == VBLK_S_OK ? 0 : -ERR_IO;
}

static int vblk_check(struct plat_blk *b, uint64_t off, size_t len)
{
	if (off % PLAT_SECTOR_SIZE || len % PLAT_SECTOR_SIZE)
		return -ERR_INVAL;
	if (off > b->size || len > b->size - off)
		return -ERR_RANGE;
	return 0;
}

/* Moves len bytes through the bounce buffer, at most its size per request:
 * into buf for VBLK_T_IN, out of wbuf for VBLK_T_OUT. */
static int vblk_transfer(struct plat_blk *b, uint32_t type, uint64_t off,
			 void *buf, const void *wbuf, size_t len)
{
	struct vblk *v = (struct vblk *)b;
	int rc = vblk_check(b, off, len);
	ksync_mutex_lock(&v->lock);
	for (size_t done = 0; rc == 0 && done < len;) {
		uint32_t n = len - done > VBLK_BOUNCE_PAGES * PMM_PAGE
			? VBLK_BOUNCE_PAGES * PMM_PAGE : (uint32_t)(len - done);
		if (wbuf != NULL)
			memcpy(v->bounce, (const uint8_t *)wbuf + done, n);
		rc = vblk_request(v, type, (off + done) / PLAT_SECTOR_SIZE, n);
		if (rc == 0 && buf != NULL)
			memcpy((uint8_t *)buf + done, v->bounce, n);
		done += n;
	}
	ksync_mutex_unlock(&v->lock);
	return rc;
}

static int vblk_read(struct plat_blk *b, uint64_t off, void *buf, size_t len)
{
	return vblk_transfer(b, VBLK_T_IN, off, buf, NULL, len);
}

static int vblk_write(struct plat_blk *b, uint64_t off, const void *buf, size_t len)
{
	return vblk_transfer(b, VBLK_T_OUT, off, NULL, buf, len);
}

static int vblk_flush(struct plat_blk *b)
{
	struct vblk *v = (struct vblk *)b;
	ksync_mutex_lock(&v->lock);
	int rc = vblk_request(v, VBLK_T_FLUSH, 0, 0);
	ksync_mutex_unlock(&v->lock);
	return rc;
}

static void vblk_close(struct plat_blk *b)
{
	(void)b;        /* devices stay up for the kernel's lifetime */
}

static const struct plat_blk_ops vblk_ops = {
	.read = vblk_read,
	.write = vblk_write,
	.flush = vblk_flush,
	.close = vblk_close,
};

int drv_vblk_open(unsigned index, struct plat_blk **out)
{
	if (index >= VBLK_MAX_DEVS)
		return -ERR_NOENT;
	struct vblk *v = &vblk_devs[index];
	if (v->pub.ops != NULL) {               /* already up */
		*out = &v->pub;
		return 0;
	}
	const struct drv_pci_dev *d = drv_pci_find(VIRTIO_PCI_VENDOR, VBLK_DEVICE_ID, index);
	if (d == NULL)
		return -ERR_NOENT;
	uint16_t io = drv_pci_io_bar(d, 0);
	if (io == 0)
		return -ERR_NOTSUP;             /* modern-only device */
	drv_pci_enable(d);
	uint32_t feat = drv_virtio_start(io, VBLK_F_FLUSH);
	if (!(feat & VBLK_F_FLUSH)) {
		drv_virtio_fail(io);
		kprintf("vd%c: device offers no FLUSH; refusing it\n", 'a' + index);
		return -ERR_NOTSUP;
	}
	int rc = drv_virtq_init(&v->q, io, 0);
	if (rc < 0) {
		drv_virtio_fail(io);
		return rc;
	}
	v->hdr_pa = pmm_alloc_zeroed();
	v->bounce_pa = pmm_alloc_contig(VBLK_BOUNCE_PAGES);
	if (v->hdr_pa == 0 || v->bounce_pa == 0) {
		drv_virtio_fail(io);
		return -ERR_NOMEM;
	}
	v->hdr = phys_to_virt(v->hdr_pa);
	v->status = (volatile uint8_t *)v->hdr + sizeof(struct vblk_hdr);
	v->bounce = phys_to_virt(v->bounce_pa);
	v->iobase = io;
	drv_virtio_ready(io);

	uint64_t sectors = inl(io + VIRTIO_LEGACY_CONFIG) |
			   ((uint64_t)inl(io + VIRTIO_LEGACY_CONFIG + 4) << 32);
	v->name[0] = 'v';
	v->name[1] = 'd';
	v->name[2] = (char)('a' + index);
	v->name[3] = '\0';
	v->pub.ops = &vblk_ops;
	v->pub.size = sectors * PLAT_SECTOR_SIZE;
	v->pub.name = v->name;
	*out = &v->pub;
	return 0;
}
