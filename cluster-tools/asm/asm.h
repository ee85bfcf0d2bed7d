/* asm.h — phantom-asm's assembler core: Phantom assembly text to a class
 * file in memory (format in vm/classfile.h, syntax in docs/bytecode.md).
 * Hosted code; shared by the phantom-asm tool, the tests and the bench. */
#ifndef PHANTOM_PASM_H
#define PHANTOM_PASM_H

#include <stddef.h>
#include <stdint.h>

/* Assemble text (len bytes) read from `path` (used in messages). On success
 * *out is a malloc'd class file of *outlen bytes and 0 is returned; on
 * failure err holds "path:line: what is wrong" and -1 is returned. */
int pasm_assemble(const char *path, const char *text, size_t len,
		  uint8_t **out, size_t *outlen, char *err, size_t errlen);

#endif
