/* virtio_rng.h — virtio-rng (entropy device) over the legacy PCI transport. */
#ifndef DRV_VIRTIO_RNG_H
#define DRV_VIRTIO_RNG_H

#include <stddef.h>

/* Brings up the first virtio-rng PCI function (after drv_pci_scan).
 * -ERR_NOENT if there is none. */
int drv_vrng_init(void);
/* Fills buf entirely from the device. -ERR_NOENT before a successful
 * init, -ERR_IO if the device stops answering. */
int drv_vrng_read(void *buf, size_t len);

#endif
