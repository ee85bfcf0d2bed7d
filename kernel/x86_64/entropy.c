/* entropy.c — entropy from the CPU (RDSEED: true random; RDRAND: DRBG output
 * reseeded by the same source) or from virtio-rng. A CPU instruction may
 * transiently fail (CF=0); it is retried a bounded number of times, after
 * which the request fails rather than returning weak bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "entropy.h"
#include "err.h"
#include "kcmd.h"
#include "virtio_rng.h"

enum ent_src { ENT_NONE, ENT_RDSEED, ENT_RDRAND, ENT_VIRTIO };
static enum ent_src ent_src;

static bool cpu_rand64(uint64_t *v)
{
	for (int i = 0; i < 100; i++) {
		uint8_t ok;
		if (ent_src == ENT_RDSEED)
			__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
		else
			__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
		cpu_pause();
	}
	return false;
}

const char *ent_init(void)
{
	uint32_t r[4];
	/* ent=virtio forces the device (to test it on CPUs with RDRAND). */
	const char *force = kcmd_get("ent");
	bool cpu_ok = force == NULL || strcmp(force, "virtio") != 0;
	cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	if (cpu_ok && max_leaf >= 7) {
		cpuid(7, 0, r);
		if (r[1] & (1u << 18)) {
			ent_src = ENT_RDSEED;
			return "rdseed";
		}
	}
	cpuid(1, 0, r);
	if (cpu_ok && (r[2] & (1u << 30))) {
		ent_src = ENT_RDRAND;
		return "rdrand";
	}
	if (drv_vrng_init() == 0) {
		ent_src = ENT_VIRTIO;
		return "virtio-rng";
	}
	ent_src = ENT_NONE;
	return NULL;
}

int ent_fill(void *buf, size_t len)
{
	if (ent_src == ENT_NONE)
		return -ERR_NOTSUP;
	if (ent_src == ENT_VIRTIO)
		return drv_vrng_read(buf, len);
	uint8_t *p = buf;
	while (len > 0) {
		uint64_t v;
		if (!cpu_rand64(&v))
			return -ERR_IO;
		size_t n = len < sizeof(v) ? len : sizeof(v);
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return 0;
}
