/* pci.h — PCI enumeration through configuration mechanism #1 (ports
 * 0xCF8/0xCFC): a table of the functions found at boot, lookup by vendor
 * and device, configuration space access and BAR decoding. */
#ifndef DRV_PCI_H
#define DRV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define DRV_PCI_MAX_DEVS 64

struct drv_pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if;
	uint8_t irq_line;
	uint32_t bar[6];                /* raw BAR values */
};

/* Scans every bus; returns the number of functions found. */
unsigned drv_pci_scan(void);
unsigned drv_pci_count(void);
const struct drv_pci_dev *drv_pci_get(unsigned i);
/* The index-th function (0-based) with this vendor and device, or NULL. */
const struct drv_pci_dev *drv_pci_find(uint16_t vendor, uint16_t device, unsigned index);

uint32_t drv_pci_read32(const struct drv_pci_dev *d, uint8_t off);
void drv_pci_write32(const struct drv_pci_dev *d, uint8_t off, uint32_t v);
/* Turns on I/O and memory decoding and bus mastering (DMA). */
void drv_pci_enable(const struct drv_pci_dev *d);
/* The I/O port base of BAR n, or 0 if it is not an I/O BAR. */
uint16_t drv_pci_io_bar(const struct drv_pci_dev *d, unsigned n);

#endif
