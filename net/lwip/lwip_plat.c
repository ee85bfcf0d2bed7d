/* lwip_plat.c — the lwIP port's platform adapter: the lwip_port_* calls of
 * lwip_plat.h over the plat.h boundary (threads, locks, time, entropy). The
 * opaque lwip_port_* types are the plat.h handles themselves. */
#include <stdint.h>

#include "lwip_plat.h"
#include "plat.h"

#define M(m) ((plat_mutex *)(void *)(m))
#define C(c) ((plat_cond *)(void *)(c))

int lwip_port_mutex_new(struct lwip_port_mutex **m)
{
	return plat_mutex_new((plat_mutex **)(void *)m);
}

void lwip_port_mutex_free(struct lwip_port_mutex *m) { plat_mutex_free(M(m)); }
void lwip_port_mutex_lock(struct lwip_port_mutex *m) { plat_mutex_lock(M(m)); }
void lwip_port_mutex_unlock(struct lwip_port_mutex *m) { plat_mutex_unlock(M(m)); }

int lwip_port_cond_new(struct lwip_port_cond **c)
{
	return plat_cond_new((plat_cond **)(void *)c);
}

void lwip_port_cond_free(struct lwip_port_cond *c) { plat_cond_free(C(c)); }
void lwip_port_cond_wait(struct lwip_port_cond *c, struct lwip_port_mutex *m)
{
	plat_cond_wait(C(c), M(m));
}

int lwip_port_cond_wait_until(struct lwip_port_cond *c, struct lwip_port_mutex *m,
			      uint64_t deadline_ns)
{
	return plat_cond_wait_until(C(c), M(m), deadline_ns) == -ERR_TIMEDOUT;
}

void lwip_port_cond_signal(struct lwip_port_cond *c) { plat_cond_signal(C(c)); }
void lwip_port_cond_broadcast(struct lwip_port_cond *c) { plat_cond_broadcast(C(c)); }

int lwip_port_thread_new(struct lwip_port_thread **t, void (*fn)(void *),
			 void *arg, const char *name)
{
	return plat_thread_create((plat_thread **)(void *)t, fn, arg, name);
}

uint64_t lwip_port_monotonic_ns(void) { return plat_monotonic_ns(); }

uint32_t lwip_port_rand(void)
{
	uint32_t r = 0;

	/* Used for ports, ISNs and DHCP xids: entropy failing is fatal. */
	if (plat_entropy(&r, sizeof r) != 0)
		plat_panic("lwip_port_rand: no entropy");
	return r;
}

void lwip_port_assert(const char *msg, const char *file, int line)
{
	plat_panic("lwIP assertion \"%s\" failed at %s:%d", msg, file, line);
}
