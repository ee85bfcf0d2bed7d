/* lwip_plat.h — the lwIP port's narrow view of the platform (lwip_plat.c
 * implements it over plat.h). lwIP's headers and plat.h cannot meet in one
 * file (both define ERR_OK...), so the port's lwIP side sees only this. */
#ifndef PHANTOM_LWIP_PLAT_H
#define PHANTOM_LWIP_PLAT_H

#include <stdint.h>

struct lwip_port_mutex;
struct lwip_port_cond;
struct lwip_port_thread;

/* 0 on success, negative on failure (the platform's error code). */
int lwip_port_mutex_new(struct lwip_port_mutex **m);
void lwip_port_mutex_free(struct lwip_port_mutex *m);
void lwip_port_mutex_lock(struct lwip_port_mutex *m);
void lwip_port_mutex_unlock(struct lwip_port_mutex *m);
int lwip_port_cond_new(struct lwip_port_cond **c);
void lwip_port_cond_free(struct lwip_port_cond *c);
void lwip_port_cond_wait(struct lwip_port_cond *c, struct lwip_port_mutex *m);
/* Returns 0 when signalled, 1 when the absolute deadline passed. */
int lwip_port_cond_wait_until(struct lwip_port_cond *c, struct lwip_port_mutex *m,
			      uint64_t deadline_ns);
void lwip_port_cond_signal(struct lwip_port_cond *c);
void lwip_port_cond_broadcast(struct lwip_port_cond *c);
int lwip_port_thread_new(struct lwip_port_thread **t, void (*fn)(void *),
			 void *arg, const char *name);
uint64_t lwip_port_monotonic_ns(void);
uint32_t lwip_port_rand(void);
void lwip_port_assert(const char *msg, const char *file, int line)
	__attribute__((noreturn));

#endif
