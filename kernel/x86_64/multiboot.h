/* multiboot.h — the parts of the Multiboot 0.6.96 boot information the
 * kernel reads: flags, memory sizes, command line and the memory map. All
 * addresses in it are physical. */
#ifndef X86_MULTIBOOT_H
#define X86_MULTIBOOT_H

#include <stdint.h>

#define MB_BOOT_MAGIC   0x2BADB002u
#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP    (1u << 6)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;      /* KiB below 1 MiB / above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

/* One memory map entry; size counts the bytes after the size field. */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;                      /* 1 = available RAM */
} __attribute__((packed));

#define MB_MEM_AVAILABLE 1u

#endif
