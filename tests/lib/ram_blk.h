/* ram_blk.h — an in-memory block device for tests: reads and writes go to
 * a caller's buffer, flushes do nothing, and both are counted (a test can
 * check that a refused open wrote nothing). Header-only. */
#ifndef PHANTOM_TEST_RAM_BLK_H
#define PHANTOM_TEST_RAM_BLK_H

#include <stdint.h>
#include <string.h>

#include "plat.h"

struct ram_blk {
	struct plat_blk pub;
	uint8_t *data;                /* pub.size bytes at least */
	uint64_t writes, flushes;
};

static inline int ram_blk_read(struct plat_blk *b, uint64_t off, void *buf,
			       size_t len)
{
	memcpy(buf, ((struct ram_blk *)b)->data + off, len);
	return 0;
}

static inline int ram_blk_write(struct plat_blk *b, uint64_t off,
				const void *buf, size_t len)
{
	struct ram_blk *r = (struct ram_blk *)b;
	memcpy(r->data + off, buf, len);
	r->writes++;
	return 0;
}

static inline int ram_blk_flush(struct plat_blk *b)
{
	((struct ram_blk *)b)->flushes++;
	return 0;
}

static inline void ram_blk_close(struct plat_blk *b) { (void)b; }

/* r becomes a device of `size` bytes over data; its counts start at 0. */
static inline void ram_blk_init(struct ram_blk *r, uint8_t *data, uint64_t size)
{
	static const struct plat_blk_ops ops = {
		ram_blk_read, ram_blk_write, ram_blk_flush, ram_blk_close,
	};
	memset(r, 0, sizeof *r);
	r->pub.ops = &ops;
	r->pub.size = size;
	r->pub.name = "ram";
	r->data = data;
}

#endif
