/* fuzz_classfile.c — libFuzzer target for the class-file loader, verifier
 * and linker: each input is loaded into a fresh small region (the checksum
 * is recomputed first, so mutations reach the parser), and a file that
 * loads runs Main.main for 2000 safepoint polls in a 1 MiB region: the
 * polls bound the instructions, the region bounds what one instruction (an
 * allocation, a collection) can cost, so no input makes a run slow (a 4 MiB
 * region let a loop allocating 3 MiB arrays take 30 s under ASan). Built by
 * tests/fuzz/build.mk (clang, -fsanitize=fuzzer,address,undefined); make
 * test runs it for a bounded time (run_fuzz.sh), `make fuzz-vm` longer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/classfile.h"
#include "../../vm/vm.h"

#define REGION (1u << 20)    /* small: one instruction (an allocation, a GC) stays cheap */

static void quiet(void *arg, const char *s, size_t n) { (void)arg; (void)s; (void)n; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void *region;
	if (!region)
		region = aligned_alloc(4096, REGION);
	uint8_t *f = malloc(size + 1);
	memcpy(f, data, size);
	if (size >= VM_CF_HDR) {
		uint32_t body = (uint32_t)(size - VM_CF_HDR);
		uint32_t crc = vm_crc32(f + VM_CF_HDR, body);
		memcpy(f + 8, &body, 4);
		memcpy(f + 12, &crc, 4);
	}
	struct vm_ctx ctx;
	memset(&ctx, 0, sizeof ctx);
	vm_set_output(&ctx, quiet, NULL);
	uint32_t id;
	if (vm_format(&ctx, region, REGION) == 0 && vm_load(&ctx, f, size) == 0 &&
	    vm_thread_start(&ctx, "Main", "main", &id) == 0)
		vm_run(&ctx, id, 2000);
	vm_detach(&ctx);               /* console buffer, sockets (none here) */
	free(f);
	return 0;
}
