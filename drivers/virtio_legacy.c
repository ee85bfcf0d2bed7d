/* virtio_legacy.c — legacy virtio PCI transport and a polled split
 * virtqueue. One request in flight at a time: the chain always starts at
 * descriptor 0, so the free list is implicit. Callers serialize (one thread
 * today; a per-device lock once kernel threads exist). */
#include <stddef.h>

#include "cpu.h"
#include "err.h"
#include "memlayout.h"
#include "pmm.h"
#include "timer.h"
#include "virtio_legacy.h"

enum {
	VL_HOST_FEATURES = 0x00, VL_GUEST_FEATURES = 0x04, VL_QUEUE_PFN = 0x08,
	VL_QUEUE_SIZE = 0x0C, VL_QUEUE_SELECT = 0x0E, VL_QUEUE_NOTIFY = 0x10,
	VL_STATUS = 0x12, VL_ISR = 0x13,
};
#define ST_ACK       1
#define ST_DRIVER    2
#define ST_DRIVER_OK 4
#define ST_FAILED    128

#define VQ_ALIGN 4096u

uint32_t drv_virtio_start(uint16_t iobase, uint32_t wanted)
{
	outb(iobase + VL_STATUS, 0);                        /* reset */
	outb(iobase + VL_STATUS, ST_ACK);
	outb(iobase + VL_STATUS, ST_ACK | ST_DRIVER);
	uint32_t feat = inl(iobase + VL_HOST_FEATURES) & wanted;
	outl(iobase + VL_GUEST_FEATURES, feat);
	return feat;
}

void drv_virtio_ready(uint16_t iobase)
{
	outb(iobase + VL_STATUS, inb(iobase + VL_STATUS) | ST_DRIVER_OK);
}

void drv_virtio_fail(uint16_t iobase)
{
	outb(iobase + VL_STATUS, inb(iobase + VL_STATUS) | ST_FAILED);
}

int drv_virtq_init(struct drv_virtq *q, uint16_t iobase, uint16_t index)
{
	outw(iobase + VL_QUEUE_SELECT, index);
	uint16_t size = inw(iobase + VL_QUEUE_SIZE);
	if (size == 0)
		return -ERR_NOENT;
	/* Legacy layout (2.7 + 4.1.4.8): descriptors, then the available
	 * ring, then at the next 4 KiB boundary the used ring. */
	uint64_t avail_end = 16ul * size + 6 + 2ul * size;
	uint64_t used_off = (avail_end + VQ_ALIGN - 1) & ~(uint64_t)(VQ_ALIGN - 1);
	uint64_t total = used_off + 6 + 8ul * size;
	unsigned pages = (unsigned)((total + PMM_PAGE - 1) / PMM_PAGE);
	uint64_t pa = pmm_alloc_contig(pages);
	if (pa == 0)
		return -ERR_NOMEM;
	uint8_t *va = phys_to_virt(pa);
	q->iobase = iobase;
	q->index = index;
	q->size = size;
	q->desc = (struct virtq_desc *)va;
	q->avail = (volatile uint16_t *)(va + 16ul * size);
	q->used = va + used_off;
	q->last_used = 0;
	outl(iobase + VL_QUEUE_PFN, (uint32_t)(pa / VQ_ALIGN));
	return 0;
}

int drv_virtq_run(struct drv_virtq *q, const struct drv_virtq_buf *b, unsigned n,
		  uint64_t timeout_ns, uint32_t *used_len)
{
	if (n == 0 || n > q->size)
		return -ERR_INVAL;
	for (unsigned i = 0; i < n; i++) {
		q->desc[i].addr = b[i].pa;
		q->desc[i].len = b[i].len;
		q->desc[i].flags = (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		q->desc[i].next = (uint16_t)(i + 1 < n ? i + 1 : 0);
	}
	uint16_t idx = q->avail[1];
	q->avail[2 + idx % q->size] = 0;                    /* chain head */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);            /* ring before idx */
	q->avail[1] = (uint16_t)(idx + 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);            /* idx before notify */
	outw(q->iobase + VL_QUEUE_NOTIFY, q->index);

	volatile uint16_t *used_idx = (volatile uint16_t *)(q->used + 2);
	uint64_t deadline = timer_monotonic_ns() + timeout_ns;
	while (*used_idx == q->last_used) {
		if (timer_monotonic_ns() > deadline) {
			drv_virtio_fail(q->iobase);
			return -ERR_TIMEDOUT;
		}
		cpu_pause();
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);            /* idx before data */
	if (used_len != NULL)                               /* used[i] = {id, len} */
		*used_len = *(volatile uint32_t *)(q->used + 4 + 8ul * (q->last_used % q->size) + 4);
	q->last_used++;
	(void)inb(q->iobase + VL_ISR);                      /* ack the interrupt */
	return 0;
}
