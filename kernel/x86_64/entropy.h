/* entropy.h — the kernel's entropy source: RDSEED, else RDRAND, else
 * virtio-rng; chosen once at boot. */
#ifndef X86_ENTROPY_H
#define X86_ENTROPY_H

#include <stddef.h>

/* Picks the source (needs drv_pci_scan first). Returns its name, or NULL
 * if the machine has none. */
const char *ent_init(void);
/* Fills buf entirely. -ERR_NOTSUP without a source, -ERR_IO if it fails. */
int ent_fill(void *buf, size_t len);

#endif
