/* arch/sys_arch.h — lwIP's OS types for NO_SYS=0 on the kernel: handles to
 * the semaphores, mutexes, mailboxes and threads net/lwip/sys_arch.c builds
 * on plat.h. A NULL handle is "invalid". */
#ifndef PHANTOM_LWIP_ARCH_SYS_ARCH_H
#define PHANTOM_LWIP_ARCH_SYS_ARCH_H

struct sys_arch_sem;
struct sys_arch_mbox;
struct lwip_port_mutex;
struct lwip_port_thread;

typedef struct sys_arch_sem *sys_sem_t;
typedef struct lwip_port_mutex *sys_mutex_t;
typedef struct sys_arch_mbox *sys_mbox_t;
typedef struct lwip_port_thread *sys_thread_t;
typedef int sys_prot_t;

#define SYS_MBOX_NULL NULL
#define SYS_SEM_NULL  NULL

#define sys_sem_valid(s)          ((s) != NULL && *(s) != NULL)
#define sys_sem_set_invalid(s)    do { if (s) *(s) = NULL; } while (0)
#define sys_mutex_valid(m)        ((m) != NULL && *(m) != NULL)
#define sys_mutex_set_invalid(m)  do { if (m) *(m) = NULL; } while (0)
#define sys_mbox_valid(b)         ((b) != NULL && *(b) != NULL)
#define sys_mbox_set_invalid(b)   do { if (b) *(b) = NULL; } while (0)

#endif
