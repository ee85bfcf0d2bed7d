/* unistd.h — kernel libc: only the types (raft's byte.h includes it);
 * there are no system calls in the kernel. */
#ifndef _UNISTD_H
#define _UNISTD_H

#include <sys/types.h>

#endif
