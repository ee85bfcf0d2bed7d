/* klibc_glue.h — connects the kernel libc to the console, panic and
 * clocks. */
#ifndef X86_KLIBC_GLUE_H
#define X86_KLIBC_GLUE_H

void klibc_glue_init(void);

#endif
