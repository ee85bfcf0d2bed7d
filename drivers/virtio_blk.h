/* virtio_blk.h — virtio-blk over the legacy PCI transport, exposed as a
 * struct plat_blk (plat.h) with read, write and flush. */
#ifndef DRV_VIRTIO_BLK_H
#define DRV_VIRTIO_BLK_H

#include "plat.h"

/* Finds the index-th virtio-blk PCI function (after drv_pci_scan), brings it
 * up and returns its block device, named "vdX" (a for index 0).
 * -ERR_NOENT if there is no such device, -ERR_IO if it will not start,
 * -ERR_NOMEM. */
int drv_vblk_open(unsigned index, struct plat_blk **b);

#endif
