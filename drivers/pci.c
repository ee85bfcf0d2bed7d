/* pci.c — brute-force scan of buses 0..255 (checking the multi-function bit
 * of function 0) into a fixed table, filled once at boot before any other
 * driver runs; afterwards the table is read-only. */
#include <stddef.h>

#include "console.h"
#include "cpu.h"
#include "pci.h"

static struct drv_pci_dev pci_devs[DRV_PCI_MAX_DEVS];
static unsigned pci_ndevs;

static uint32_t cfg_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	return 0x80000000u | ((uint32_t)bus << 16) | ((uint32_t)dev << 11) |
	       ((uint32_t)fn << 8) | (off & 0xfc);
}

static uint32_t cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	outl(0xCF8, cfg_addr(bus, dev, fn, off));
	return inl(0xCFC);
}

uint32_t drv_pci_read32(const struct drv_pci_dev *d, uint8_t off)
{
	return cfg_read(d->bus, d->dev, d->fn, off);
}

void drv_pci_write32(const struct drv_pci_dev *d, uint8_t off, uint32_t v)
{
	outl(0xCF8, cfg_addr(d->bus, d->dev, d->fn, off));
	outl(0xCFC, v);
}

static void add_fn(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
	if (pci_ndevs == DRV_PCI_MAX_DEVS) {
		kprintf("pci: more than %u functions; %02x:%02x.%x ignored\n",
			DRV_PCI_MAX_DEVS, bus, dev, fn);
		return;
	}
	struct drv_pci_dev *d = &pci_devs[pci_ndevs++];
	uint32_t cls = cfg_read(bus, dev, fn, 0x08);
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	d->class_code = cls >> 24;
	d->subclass = (cls >> 16) & 0xff;
	d->prog_if = (cls >> 8) & 0xff;
	d->irq_line = cfg_read(bus, dev, fn, 0x3C) & 0xff;
	for (unsigned i = 0; i < 6; i++)
		d->bar[i] = cfg_read(bus, dev, fn, 0x10 + 4 * i);
}

unsigned drv_pci_scan(void)
{
	pci_ndevs = 0;
	for (unsigned bus = 0; bus < 256; bus++) {
		for (uint8_t dev = 0; dev < 32; dev++) {
			uint32_t id = cfg_read(bus, dev, 0, 0);
			if ((id & 0xffff) == 0xffff)
				continue;
			add_fn(bus, dev, 0, id);
			bool multi = (cfg_read(bus, dev, 0, 0x0C) >> 16) & 0x80;
			for (uint8_t fn = 1; multi && fn < 8; fn++) {
				id = cfg_read(bus, dev, fn, 0);
				if ((id & 0xffff) != 0xffff)
					add_fn(bus, dev, fn, id);
			}
		}
	}
	return pci_ndevs;
}

unsigned drv_pci_count(void)
{
	return pci_ndevs;
}

const struct drv_pci_dev *drv_pci_get(unsigned i)
{
	return i < pci_ndevs ? &pci_devs[i] : NULL;
}

const struct drv_pci_dev *drv_pci_find(uint16_t vendor, uint16_t device, unsigned index)
{
	for (unsigned i = 0; i < pci_ndevs; i++)
		if (pci_devs[i].vendor == vendor && pci_devs[i].device == device &&
		    index-- == 0)
			return &pci_devs[i];
	return NULL;
}

void drv_pci_enable(const struct drv_pci_dev *d)
{
	uint32_t cmd = drv_pci_read32(d, 0x04);
	drv_pci_write32(d, 0x04, (cmd & 0xffff) | 0x7);   /* I/O, memory, master */
}

uint16_t drv_pci_io_bar(const struct drv_pci_dev *d, unsigned n)
{
	if (n >= 6 || !(d->bar[n] & 1))
		return 0;
	return d->bar[n] & 0xfffc;
}
