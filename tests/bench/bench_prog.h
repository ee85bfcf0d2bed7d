/* bench_prog.h — the sample programs of tests/bench/vm/: read one by name
 * and assemble it, for the benches that run them (vm_bench, node_bench). */
#ifndef PHANTOM_BENCH_PROG_H
#define PHANTOM_BENCH_PROG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/capture.h"
#include "../../cluster-tools/asm/asm.h"

/* Assembles tests/bench/vm/NAME.pasm (its path is left in path) into a
 * class file the caller frees; -1, with the reason printed, on failure. */
static inline int bench_prog_assemble(const char *who, const char *name,
				      char *path, size_t pathcap,
				      uint8_t **bytes, size_t *n)
{
	char err[512];
	size_t len;
	snprintf(path, pathcap, "tests/bench/vm/%s.pasm", name);
	char *text = read_whole_file(path, &len);
	int rc = text ? pasm_assemble(path, text, len, bytes, n, err, sizeof err) : -1;
	if (rc != 0)
		fprintf(stderr, "%s: %s: %s\n", who, path, text ? err : "cannot read");
	free(text);
	return rc != 0 ? -1 : 0;
}

#endif
