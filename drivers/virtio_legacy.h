/* virtio_legacy.h — the legacy (virtio 0.9.5, "transitional") PCI transport:
 * device status and feature negotiation through the I/O BAR, and one split
 * virtqueue driven by polling (virtio 1.x spec, 4.1.4.8 and 2.7).
 *
 *   I/O BAR0: 0x00 host features  0x04 guest features  0x08 queue PFN
 *             0x0C queue size     0x0E queue select    0x10 queue notify
 *             0x12 device status  0x13 ISR             0x14 device config
 */
#ifndef DRV_VIRTIO_LEGACY_H
#define DRV_VIRTIO_LEGACY_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_LEGACY_CONFIG   0x14

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2            /* device writes this buffer */

struct drv_virtq {
	uint16_t iobase, index, size;
	struct virtq_desc *desc;
	volatile uint16_t *avail;           /* flags, idx, ring[size]        */
	volatile uint8_t *used;             /* flags, idx, {id,len}[size]    */
	uint16_t last_used;
};

/* One buffer of a request chain: physical address, length, device-writes. */
struct drv_virtq_buf {
	uint64_t pa;
	uint32_t len;
	bool write;
};

/* Resets the device, acknowledges it and negotiates: returns the accepted
 * features (wanted & offered) after writing them. */
uint32_t drv_virtio_start(uint16_t iobase, uint32_t wanted);
/* Allocates and registers queue index; -ERR_NOENT if the device has no such
 * queue, -ERR_NOMEM. */
int drv_virtq_init(struct drv_virtq *q, uint16_t iobase, uint16_t index);
/* Sets DRIVER_OK: the device is live. */
void drv_virtio_ready(uint16_t iobase);
/* Marks the device failed (after a driver error). */
void drv_virtio_fail(uint16_t iobase);
/* Submits one chain of n buffers and polls until the device has used it,
 * at most timeout_ns. Returns 0 or -ERR_TIMEDOUT (the device is then
 * marked failed: a late completion must not land in reused memory). If
 * used_len is not NULL it gets the bytes the device wrote. */
int drv_virtq_run(struct drv_virtq *q, const struct drv_virtq_buf *b, unsigned n,
		  uint64_t timeout_ns, uint32_t *used_len);

#endif
