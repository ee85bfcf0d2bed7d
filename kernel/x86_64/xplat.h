/* xplat.h — the bare-metal platform: fills struct plat_ops (plat.h) from the
 * kernel's pieces and installs it. */
#ifndef X86_XPLAT_H
#define X86_XPLAT_H

/* Installs plat_x86_ops as the active platform; call after threads, timer,
 * PCI and entropy are up. Returns plat_install's result. */
int xplat_init(void);

#endif
