/* lwipopts.h — lwIP configuration for the bare-metal kernel: NO_SYS=0 (our
 * sys_arch over plat.h threads), IPv4 with TCP, UDP, DHCP and DNS, the
 * sockets API under lwip_* names only (LWIP_COMPAT_SOCKETS=0). */
#ifndef PHANTOM_LWIPOPTS_H
#define PHANTOM_LWIPOPTS_H

#define NO_SYS                      0
#define SYS_LIGHTWEIGHT_PROT        1
#define LWIP_TCPIP_CORE_LOCKING     1
#define LWIP_NETCONN                1
#define LWIP_SOCKET                 1
#define LWIP_COMPAT_SOCKETS         0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SO_RCVTIMEO            1
#define LWIP_SO_SNDTIMEO            1
#define LWIP_SO_RCVBUF              1
#define LWIP_NETIF_API              1
#define LWIP_ERRNO_STDINCLUDE       1   /* errno from the kernel libc */

#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_TCP                    1
#define LWIP_UDP                    1
#define LWIP_DHCP                   1
#define LWIP_DNS                    1
#define LWIP_RAW                    0
#define LWIP_IGMP                   0
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_HAVE_LOOPIF            1   /* 127.0.0.1 inside the kernel */
#define LWIP_NETIF_LOOPBACK         1

/* Memory: lwIP's own heap and pools, carved from the kernel heap at init. */
#define MEM_LIBC_MALLOC             0
#define MEM_ALIGNMENT               8
#define MEM_SIZE                    (1024 * 1024)
#define MEMP_NUM_PBUF               64
#define MEMP_NUM_TCP_PCB            32
#define MEMP_NUM_TCP_PCB_LISTEN     8
#define MEMP_NUM_NETCONN            40
#define MEMP_NUM_NETBUF             32
#define MEMP_NUM_TCPIP_MSG_INPKT    64
#define PBUF_POOL_SIZE              256

/* TCP: 32 KiB windows for Raft's bulk transfers (delta and snapshot chunks).
 * lwIP requires MEMP_NUM_TCP_SEG >= TCP_SND_QUEUELEN. */
#define TCP_MSS                     1460
#define TCP_WND                     (22 * TCP_MSS)
#define TCP_SND_BUF                 (22 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG            TCP_SND_QUEUELEN
#define LWIP_TCP_KEEPALIVE          1

/* Threads and mailboxes (sizes are message counts). */
#define TCPIP_THREAD_NAME           "lwip-tcpip"
#define TCPIP_THREAD_STACKSIZE      16384
#define TCPIP_THREAD_PRIO           1
#define TCPIP_MBOX_SIZE             128
#define DEFAULT_THREAD_STACKSIZE    16384
#define DEFAULT_TCP_RECVMBOX_SIZE   64
#define DEFAULT_UDP_RECVMBOX_SIZE   32
#define DEFAULT_RAW_RECVMBOX_SIZE   32
#define DEFAULT_ACCEPTMBOX_SIZE     16

#define LWIP_STATS                  0
#define LWIP_DEBUG                  0

#endif
