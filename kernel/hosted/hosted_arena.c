/* hosted_arena.c — the persistent arena's address space on Linux: one memfd
 * mapped twice, at PLAT_ARENA_BASE with the protections the core asks for, and
 * at a private address always read-write (the "alias") for page_fill.
 *
 *   memfd  [0 ........................................ size)
 *            |  MAP_SHARED, PROT_* per page              |  MAP_SHARED, RW
 *   arena  PLAT_ARENA_BASE                     alias  anywhere (kernel's pick)
 *
 * Invariants: both mappings cover the whole memfd; a page's bytes are the same
 * through either; only the arena mapping's protections ever change, so a
 * page_fill never opens a window in which other threads can see a partial page.
 * Each run of pages with one protection is one kernel VMA, bounded by
 * vm.max_map_count: mprotect then fails with ENOMEM, returned as -ERR_NOMEM. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hosted.h"

/* Guarded by arena_lock for reserve/release; read without it by the
 * protect/discard/fill paths (which may run in the fault handler), valid
 * between a successful reserve and the matching release. */
static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char *base;          /* == PLAT_ARENA_BASE while reserved, else NULL */
	char *alias;
	uint64_t size;
	int memfd;
} arena = { .memfd = -1 };

/* An OS call on the arena failed: the error goes back to the caller and, if
 * the caller is the fault hook, to the fault handler too. */
static int arena_os_error(void)
{
	int e = errno;
	hosted_fault_note_error(e);
	return hosted_err(e);
}

static int arena_prot(enum plat_prot prot, int *out)
{
	switch (prot) {
	case PLAT_PROT_NONE: *out = PROT_NONE; return 0;
	case PLAT_PROT_READ: *out = PROT_READ; return 0;
	case PLAT_PROT_RW:   *out = PROT_READ | PROT_WRITE; return 0;
	}
	return -ERR_INVAL;
}

/* Checks [addr, addr+len) is page-aligned and inside the arena; gives the
 * offset into the memfd. */
static int arena_range(const void *addr, size_t len, uint64_t *off)
{
	uintptr_t a = (uintptr_t)addr;
	uintptr_t lo = (uintptr_t)arena.base;
	if (arena.base == NULL)
		return -ERR_INVAL;
	if (a % PLAT_PAGE_SIZE != 0 || len % PLAT_PAGE_SIZE != 0)
		return -ERR_INVAL;
	if (a < lo || a - lo > arena.size || len > arena.size - (a - lo))
		return -ERR_RANGE;
	*off = a - lo;
	return 0;
}

int hosted_arena_reserve(uint64_t size, void **base)
{
	int rc;
	if (base == NULL || size == 0 || size % PLAT_PAGE_SIZE != 0)
		return -ERR_INVAL;
	if (size > PLAT_ARENA_MAX)
		return -ERR_RANGE;
	pthread_mutex_lock(&arena_lock);
	if (arena.base != NULL) {
		rc = -ERR_BUSY;           /* one arena at a time */
		goto out;
	}
	/* memfd_create gives shmem with VM_NORESERVE: no commit charge and no
	 * memory used until a page is written; MAP_NORESERVE is then moot. */
	int fd = memfd_create("phantom-arena", MFD_CLOEXEC);
	if (fd < 0) {
		rc = hosted_err(errno);
		goto out;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		rc = hosted_err(errno);
		goto err_fd;
	}
	void *want = (void *)(uintptr_t)PLAT_ARENA_BASE;
	void *p = mmap(want, size, PROT_NONE,
		       MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		rc = errno == EEXIST ? -ERR_ADDRINUSE : hosted_err(errno);
		goto err_fd;
	}
	if (p != want) {              /* a kernel before 4.17 took it as a hint */
		munmap(p, size);
		rc = -ERR_ADDRINUSE;
		goto err_fd;
	}
	void *alias = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (alias == MAP_FAILED) {
		rc = hosted_err(errno);
		goto err_map;
	}
	arena.alias = alias;
	arena.size = size;
	arena.memfd = fd;
	arena.base = p;
	hosted_fault_set_range((uintptr_t)p, (uintptr_t)p + size);
	*base = p;
	rc = 0;
	goto out;

err_map:
	munmap(p, size);
err_fd:
	close(fd);
out:
	pthread_mutex_unlock(&arena_lock);
	return rc;
}

int hosted_arena_release(void)
{
	int rc = 0;
	pthread_mutex_lock(&arena_lock);
	if (arena.base == NULL) {
		rc = -ERR_INVAL;
		goto out;
	}
	hosted_fault_set_range(0, 0);
	if (munmap(arena.base, arena.size) != 0 ||
	    munmap(arena.alias, arena.size) != 0)
		rc = hosted_err(errno);
	close(arena.memfd);
	arena.base = NULL;
	arena.alias = NULL;
	arena.size = 0;
	arena.memfd = -1;
out:
	pthread_mutex_unlock(&arena_lock);
	return rc;
}

int hosted_mem_protect(void *addr, size_t len, enum plat_prot prot)
{
	uint64_t off;
	int p;
	int rc = arena_prot(prot, &p);
	if (rc == 0)
		rc = arena_range(addr, len, &off);
	if (rc != 0 || len == 0)
		return rc;
	if (mprotect(addr, len, p) != 0)
		return arena_os_error();
	return 0;
}

int hosted_mem_discard(void *addr, size_t len)
{
	uint64_t off;
	int rc = arena_range(addr, len, &off);
	if (rc != 0 || len == 0)
		return rc;
	/* Punching the hole frees the pages and zaps them from both mappings;
	 * the next access through either reads zeros. */
	if (fallocate(arena.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) != 0)
		return arena_os_error();
	return 0;
}

int hosted_page_fill(void *addr, const void *src, enum plat_prot prot)
{
	uint64_t off;
	int p;
	int rc = arena_prot(prot, &p);
	if (rc == 0)
		rc = arena_range(addr, PLAT_PAGE_SIZE, &off);
	if (rc == 0 && src == NULL)
		rc = -ERR_INVAL;
	if (rc != 0)
		return rc;
	/* Close the page first, so the fill is atomic even for a page that was
	 * accessible: once mprotect returns, no thread reaches it through the
	 * arena mapping (the kernel has shot down their TLB entries). */
	if (mprotect(addr, PLAT_PAGE_SIZE, PROT_NONE) != 0)
		return arena_os_error();
	memcpy(arena.alias + off, src, PLAT_PAGE_SIZE);
	if (p != PROT_NONE && mprotect(addr, PLAT_PAGE_SIZE, p) != 0)
		return arena_os_error();
	return 0;
}
