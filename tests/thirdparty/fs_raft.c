/* fs_raft.c — the kernel build of raft, linked with the kernel libc and run
 * freestanding: configuration encode/decode (raft's byte cursor, the code
 * -fno-strict-aliasing protects); raft_init/raft_start/raft_step are linked. */
#include <stdint.h>
#include <string.h>

#include <raft.h>

#include "fs_test.h"

/* Referenced so the link proves the whole engine resolves. */
void *const fs_raft_entry_points[] = {
	(void *)raft_init, (void *)raft_start, (void *)raft_step, (void *)raft_apply,
	(void *)raft_close, (void *)raft_bootstrap,
};

int fs_main(void)
{
	int failures = 0;
	struct raft_configuration c, d;
	struct raft_buffer buf = { 0 };
	int r1, r2, r3, r4 = -1, ok = 0;

	raft_configuration_init(&c);
	r1 = raft_configuration_add(&c, 1, "10.0.0.1:7000", RAFT_VOTER);
	r2 = raft_configuration_add(&c, 2, "10.0.0.2:7000", RAFT_STANDBY);
	r3 = raft_configuration_encode(&c, &buf);
	if (r3 == 0) {
		raft_configuration_init(&d);
		r4 = raft_configuration_decode(&buf, &d);
		ok = r4 == 0 && d.n == 2 && d.servers[0].id == 1 &&
		     strcmp(d.servers[1].address, "10.0.0.2:7000") == 0 &&
		     d.servers[1].role == RAFT_STANDBY;
		raft_configuration_close(&d);
		raft_free(buf.base);
	}
	raft_configuration_close(&c);
	FS_RESULT("fs_raft", "configuration_roundtrip", r1 == 0 && r2 == 0 && ok,
		  "add %d %d encode %d decode %d", r1, r2, r3, r4);
	FS_RESULT("fs_raft", "duplicate_id_rejected", ({
		raft_configuration_init(&c);
		raft_configuration_add(&c, 1, "a", RAFT_VOTER);
		int r = raft_configuration_add(&c, 1, "b", RAFT_VOTER);
		raft_configuration_close(&c);
		r == RAFT_DUPLICATEID; }), "duplicate id accepted");
	FS_RESULT("fs_raft", "strerror", strcmp(raft_strerror(RAFT_NOMEM), "out of memory") == 0,
		  "'%s'", raft_strerror(RAFT_NOMEM));
	return failures;
}
