/* arch/cc.h — lwIP's compiler and platform glue for the bare-metal kernel:
 * types from the kernel libc, diagnostics to the console, asserts and the
 * random source through net/lwip/lwip_plat.h (never plat.h itself: its ERR_*
 * names clash with lwIP's err.h). */
#ifndef PHANTOM_LWIP_ARCH_CC_H
#define PHANTOM_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip_plat.h"

#define LWIP_NO_CTYPE_H 0

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() lwip_port_rand()

#endif
