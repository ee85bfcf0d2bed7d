/* kheap.h — the kernel heap region at KHEAP_BASE, backed by frames mapped at
 * boot and handed to the kernel libc's malloc (klibc_heap_init). */
#ifndef X86_KHEAP_H
#define X86_KHEAP_H

#include <stdint.h>

/* Maps bytes (rounded up to pages) of fresh memory at KHEAP_BASE and gives
 * it to the libc allocator. Returns the size mapped. */
uint64_t kheap_init(uint64_t bytes);

#endif
