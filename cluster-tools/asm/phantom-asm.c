/* phantom-asm.c — the assembler tool: `phantom-asm IN.pasm -o OUT.pcl`
 * assembles, `phantom-asm -d FILE.pcl` disassembles. Errors go to stderr as
 * "file:line: what is wrong"; the exit status is 1 on any error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "../../vm/vm.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (size_t k; (k = fread(buf + n, 1, cap - n, f)) > 0;) {
		n += k;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	*len = n;
	return buf;
}

static int usage(void)
{
	fprintf(stderr, "usage: phantom-asm IN.pasm -o OUT.pcl\n       phantom-asm -d FILE.pcl\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t len;
	if (argc == 3 && !strcmp(argv[1], "-d")) {
		char *file = slurp(argv[2], &len);
		if (!file) {
			perror(argv[2]);
			return 1;
		}
		size_t cap = 1 << 22;
		char *out = malloc(cap);
		int rc = vm_disasm(file, len, out, cap);
		fprintf(rc ? stderr : stdout, rc ? "%s: %s\n" : "%.0s%s", argv[2], out);
		free(out);
		free(file);
		return rc ? 1 : 0;
	}
	if (argc != 4 || strcmp(argv[2], "-o"))
		return usage();
	char *text = slurp(argv[1], &len);
	if (!text) {
		perror(argv[1]);
		return 1;
	}
	uint8_t *out;
	size_t outlen;
	char err[512];
	if (pasm_assemble(argv[1], text, len, &out, &outlen, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		free(text);
		return 1;
	}
	free(text);
	FILE *f = fopen(argv[3], "wb");
	if (!f || fwrite(out, 1, outlen, f) != outlen || fclose(f)) {
		perror(argv[3]);
		return 1;
	}
	free(out);
	return 0;
}
