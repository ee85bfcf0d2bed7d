/* hosted_blk.c — block devices over files (or Linux block devices): sector-
 * aligned pread/pwrite, flush = fdatasync. The read path does no allocation
 * and takes no lock, so the arena's fault hook may page in through it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"

struct blk_file {
	struct plat_blk pub;     /* first: plat_blk * <-> blk_file * */
	int fd;
	bool rdonly;
	char *name;              /* owned copy of the path */
};

static int blk_check(const struct plat_blk *b, uint64_t off, const void *buf,
		     size_t len)
{
	if (buf == NULL && len != 0)
		return -ERR_INVAL;
	if (off % PLAT_SECTOR_SIZE != 0 || len % PLAT_SECTOR_SIZE != 0)
		return -ERR_INVAL;
	if (off > b->size || len > b->size - off)
		return -ERR_RANGE;
	return 0;
}

static int blk_read(struct plat_blk *b, uint64_t off, void *buf, size_t len)
{
	struct blk_file *f = (struct blk_file *)b;
	int rc = blk_check(b, off, buf, len);
	if (rc != 0)
		return rc;
	char *p = buf;
	while (len > 0) {
		ssize_t n = pread(f->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hosted_err(errno);
		if (n == 0)
			return -ERR_IO;   /* the file shrank under us */
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int blk_write(struct plat_blk *b, uint64_t off, const void *buf,
		     size_t len)
{
	struct blk_file *f = (struct blk_file *)b;
	if (f->rdonly)
		return -ERR_INVAL;
	int rc = blk_check(b, off, buf, len);
	if (rc != 0)
		return rc;
	const char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(f->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hosted_err(errno);
		if (n == 0)
			return -ERR_IO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int blk_flush(struct plat_blk *b)
{
	struct blk_file *f = (struct blk_file *)b;
	if (f->rdonly)
		return 0;
	while (fdatasync(f->fd) != 0) {
		if (errno != EINTR)
			return hosted_err(errno);
	}
	return 0;
}

static void blk_close(struct plat_blk *b)
{
	struct blk_file *f = (struct blk_file *)b;
	if (f == NULL)
		return;
	close(f->fd);
	free(f->name);
	free(f);
}

static const struct plat_blk_ops blk_file_ops = {
	.read = blk_read,
	.write = blk_write,
	.flush = blk_flush,
	.close = blk_close,
};

/* Makes a newly created file's directory entry durable too. */
static int blk_sync_dir(const char *path)
{
	char *dir = strdup(path);
	if (dir == NULL)
		return -ERR_NOMEM;
	char *slash = strrchr(dir, '/');
	const char *d = ".";
	if (slash == dir)
		d = "/";
	else if (slash != NULL) {
		*slash = 0;
		d = dir;
	}
	int rc = 0;
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = hosted_err(errno);
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

/* Opens (or creates) the file; *created says whether we made it. */
static int blk_open_fd(const char *path, uint32_t flags, uint64_t create_size,
		       int *fd_out, bool *created)
{
	int mode = (flags & PLAT_BLK_RDONLY) ? O_RDONLY : O_RDWR;
	*created = false;
	if (flags & PLAT_BLK_CREATE) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			*created = true;
			int rc = 0;
			if (ftruncate(fd, (off_t)create_size) != 0 ||
			    fsync(fd) != 0)
				rc = hosted_err(errno);
			if (rc == 0)
				rc = blk_sync_dir(path);
			if (rc != 0) {
				close(fd);
				unlink(path);
				return rc;
			}
			*fd_out = fd;
			return 0;
		}
		if (errno != EEXIST)
			return hosted_err(errno);
	}
	int fd = open(path, mode | O_CLOEXEC);
	if (fd < 0)
		return hosted_err(errno);
	*fd_out = fd;
	return 0;
}

static int blk_size(int fd, uint64_t *size)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return hosted_err(errno);
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) != 0)
			return hosted_err(errno);
	} else {
		return -ERR_INVAL;       /* a directory, a pipe, ... */
	}
	*size -= *size % PLAT_SECTOR_SIZE;
	return 0;
}

int hosted_blk_open(const char *name, uint32_t flags, uint64_t create_size,
		    struct plat_blk **out)
{
	if (name == NULL || name[0] == 0 || out == NULL)
		return -ERR_INVAL;
	if (flags & ~(PLAT_BLK_CREATE | PLAT_BLK_RDONLY))
		return -ERR_INVAL;
	if ((flags & PLAT_BLK_CREATE) && (flags & PLAT_BLK_RDONLY))
		return -ERR_INVAL;       /* creating implies writing */
	if ((flags & PLAT_BLK_CREATE) &&
	    (create_size % PLAT_SECTOR_SIZE != 0 || create_size > INT64_MAX))
		return -ERR_INVAL;

	struct blk_file *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -ERR_NOMEM;
	f->name = strdup(name);
	if (f->name == NULL) {
		free(f);
		return -ERR_NOMEM;
	}
	bool created;
	int rc = blk_open_fd(name, flags, create_size, &f->fd, &created);
	if (rc != 0)
		goto err_name;
	rc = blk_size(f->fd, &f->pub.size);
	if (rc != 0)
		goto err_fd;
	f->rdonly = (flags & PLAT_BLK_RDONLY) != 0;
	f->pub.ops = &blk_file_ops;
	f->pub.name = f->name;
	*out = &f->pub;
	return 0;

err_fd:
	close(f->fd);
	if (created)
		unlink(name);
err_name:
	free(f->name);
	free(f);
	return rc;
}
