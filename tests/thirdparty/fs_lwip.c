/* fs_lwip.c — the kernel build of lwIP with our sys_arch, the real
 * kernel/common/plat.c and a single-threaded stub platform (fs_plat_stub.c),
 * linked with the kernel libc and run freestanding: lwip_init, pbufs and a
 * UDP pcb. tcpip_init and the socket API are linked here, and run on real
 * threads by lwip_hosted_test.c. */
#include <stdint.h>
#include <string.h>

#include "lwip/api.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"

#include "fs_test.h"

void fs_plat_stub_install(void);

void *const fs_lwip_entry_points[] = {
	(void *)tcpip_init, (void *)lwip_socket, (void *)lwip_connect, (void *)lwip_bind,
	(void *)lwip_listen, (void *)lwip_accept, (void *)lwip_recv, (void *)lwip_send,
	(void *)lwip_close, (void *)lwip_select, (void *)netconn_new_with_proto_and_callback,
};

int fs_main(void)
{
	int failures = 0;
	struct pbuf *p, *q;
	struct udp_pcb *u;
	err_t e = ERR_VAL;

	fs_plat_stub_install();
	lwip_init();
	p = pbuf_alloc(PBUF_TRANSPORT, 3000, PBUF_POOL);
	q = pbuf_alloc(PBUF_RAW, 100, PBUF_RAM);
	if (p && q) {
		static char data[3000];
		for (int i = 0; i < 3000; i++)
			data[i] = (char)i;
		pbuf_take(p, data, sizeof data);
		pbuf_cat(p, q);
	}
	FS_RESULT("fs_lwip", "pbuf_chain",
		  p && q && p->tot_len == 3100 && pbuf_get_at(p, 2999) == (uint8_t)(char)2999,
		  "p=%p q=%p", (void *)p, (void *)q);
	if (p)
		pbuf_free(p);
	u = udp_new();
	if (u)
		e = udp_bind(u, IP4_ADDR_ANY, 5000);
	FS_RESULT("fs_lwip", "udp_bind", u && e == ERR_OK, "udp_bind -> %d", e);
	if (u)
		udp_remove(u);
	return failures;
}
