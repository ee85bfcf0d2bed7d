/* signal.h — kernel libc: no signals in the kernel; only the type
 * libsodium's utils.c names. */
#ifndef _SIGNAL_H
#define _SIGNAL_H

typedef int sig_atomic_t;

#endif
