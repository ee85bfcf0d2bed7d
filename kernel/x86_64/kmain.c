/* kmain.c — the 64-bit C entry: console, traps, the boot information
 * (command line, memory map), physical memory, paging, heap, timer; then the
 * banner and either the test named by test= or the application in the image
 * on vda, then the kernel console. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "cpu.h"
#include "entropy.h"
#include "kapp.h"
#include "kcmd.h"
#include "kheap.h"
#include "kthread.h"
#include "klibc_glue.h"
#include "ktest.h"
#include "memlayout.h"
#include "multiboot.h"
#include "pci.h"
#include "pic.h"
#include "pmm.h"
#include "power.h"
#include "timer.h"
#include "trap.h"
#include "vmm.h"
#include "xplat.h"

void kmain(uint32_t magic, uint32_t info_pa);

#define MIB (1024ul * 1024)

/* Collects the available RAM regions; the boot information is read before
 * the frame allocator exists, so nothing has reused its memory yet. */
static unsigned boot_regions(const struct mb_info *mb, struct pmm_region *r)
{
	unsigned n = 0;
	if (mb->flags & MB_INFO_MMAP) {
		uint64_t p = mb->mmap_addr, end = p + mb->mmap_length;
		while (p + sizeof(struct mb_mmap_entry) <= end) {
			const struct mb_mmap_entry *e = phys_to_virt(p);
			if (e->type == MB_MEM_AVAILABLE && e->len > 0) {
				if (n == PMM_MAX_REGIONS) {
					kprintf("boot: memory map has more than %u regions; rest ignored\n",
						PMM_MAX_REGIONS);
					break;
				}
				r[n].base = e->addr;
				r[n].len = e->len;
				n++;
			}
			p += e->size + sizeof(e->size);
		}
	} else if (mb->flags & MB_INFO_MEM) {
		r[0].base = 1 * MIB;
		r[0].len = (uint64_t)mb->mem_upper * 1024;
		n = 1;
	}
	return n;
}

static void console_loop(void)
{
	char line[128];
	kprintf("phantom: console commands: time, mem, halt\n");
	for (;;) {
		kprintf("> ");
		con_readline(line, sizeof(line));
		if (strcmp(line, "halt") == 0) {
			kprintf("phantom: halting\n");
			kexit(KEXIT_PASS);
		} else if (strcmp(line, "time") == 0) {
			kprintf("monotonic %lu ns, wall %lu s\n", timer_monotonic_ns(),
				timer_wall_ns() / 1000000000ul);
		} else if (strcmp(line, "mem") == 0) {
			kprintf("free %lu KiB of %lu KiB\n", pmm_free_bytes() / 1024,
				pmm_total_bytes() / 1024);
		} else if (line[0] != '\0') {
			kprintf("unknown command '%s'\n", line);
		}
	}
}

void kmain(uint32_t magic, uint32_t info_pa)
{
	static struct pmm_region regions[PMM_MAX_REGIONS];

	con_init();
	trap_init();
	kprintf("\nPhantom x86_64 kernel\n");
	if (magic != MB_BOOT_MAGIC)
		kpanic("boot: not started by a multiboot loader (magic %x)", magic);
	const struct mb_info *mb = phys_to_virt(info_pa);
	kcmd_parse((mb->flags & MB_INFO_CMDLINE) ? phys_to_virt(mb->cmdline) : NULL);
	unsigned n = boot_regions(mb, regions);
	if (n == 0)
		kpanic("boot: the loader passed no memory information");

	pmm_init(regions, n);
	vmm_init();
	uint64_t heap_def = pmm_free_bytes() / 4 < 64 * MIB ? pmm_free_bytes() / 4 : 64 * MIB;
	uint64_t heap = kheap_init(kcmd_get_u64("heap", heap_def / MIB) * MIB);
	klibc_glue_init();
	pic_init();
	timer_init();
	kthread_init();
	cpu_sti();

	kprintf("phantom: command line \"%s\"\n", kcmd_line());
	kprintf("phantom: memory %lu MiB, free %lu MiB, heap %lu MiB\n",
		pmm_total_bytes() / MIB, pmm_free_bytes() / MIB, heap / MIB);
	kprintf("phantom: wall clock %lu s since the epoch\n", timer_wall_ns() / 1000000000ul);
	unsigned npci = drv_pci_scan();
	for (unsigned i = 0; i < npci; i++) {
		const struct drv_pci_dev *d = drv_pci_get(i);
		kprintf("pci %02x:%02x.%x %04x:%04x class %02x.%02x\n", d->bus, d->dev,
			d->fn, d->vendor, d->device, d->class_code, d->subclass);
	}
	const char *ent = ent_init();
	kprintf("phantom: entropy source %s\n", ent ? ent : "none");
	power_init();
	int rc = xplat_init();
	if (rc < 0)
		kpanic("boot: plat_install failed (%d)", rc);

	const char *test = kcmd_get("test");
	if (test != NULL) {
		ktest_run(test);
		kprintf("KTEST FAIL: %s: no such test\n", test);
		kexit(KEXIT_FAIL);
	}
	bool stopped = false;
	kapp_run(&stopped);
	if (stopped) {
		kprintf("phantom: powering off\n");
		power_off();
	}
	console_loop();
}
