/* endian.h — kernel libc: x86_64 is little-endian (raft's byte.c asks). */
#ifndef _ENDIAN_H
#define _ENDIAN_H

#define LITTLE_ENDIAN __ORDER_LITTLE_ENDIAN__
#define BIG_ENDIAN    __ORDER_BIG_ENDIAN__
#define PDP_ENDIAN    __ORDER_PDP_ENDIAN__
#define BYTE_ORDER    __BYTE_ORDER__

#endif
