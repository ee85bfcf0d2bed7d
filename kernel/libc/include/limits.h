/* limits.h — kernel libc: defines _LIBC_LIMITS_H_ first so gcc's own
 * limits.h (which this includes for the integer limits) does not
 * #include_next a host one under -nostdinc; adds the POSIX limits the
 * libraries use (lwIP typedefs ssize_t as int without SSIZE_MAX). */
#ifndef _KLIBC_LIMITS_H
#define _KLIBC_LIMITS_H
#define _LIBC_LIMITS_H_ 1
#include_next <limits.h>

#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif
#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

#endif
