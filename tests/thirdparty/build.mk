# tests/thirdparty/build.mk — tests of deploy/deps.sh (deps_test.sh) and of
# the kernel's third-party builds: link_test.sh (each library + the kernel
# libc linked freestanding, then run), kat_test (the same zstd/libsodium
# objects, hosted, against the zstd CLI and published test vectors) and
# lwip_hosted_test (the kernel's lwIP and sys_arch on real threads).
# Included by deploy/third_party.mk; see tests/thirdparty/README.md.

TPT_OBJ  := $(BUILD)/tests/thirdparty
FS_SRCS  := $(sort $(wildcard tests/thirdparty/fs_*.c))
FS_OBJS  := $(patsubst tests/thirdparty/%.c,$(TPT_OBJ)/%.o,$(FS_SRCS))
FS_CFLAGS := $(KERNEL_CFLAGS) $(KERNEL_NOFPU) -Wall -Wextra -Werror \
	-Itests/thirdparty -Ikernel/include -I$(ZSTD_DIR) $(SODIUM_INC) \
	-I$(RAFT_DIR)/include $(LWIP_INC)

$(TPT_OBJ)/fs_%.o: tests/thirdparty/fs_%.c | $(SODIUM_VERSION_H) $(RAFT_H)
	@mkdir -p $(@D)
	$(KERNEL_CC) $(FS_CFLAGS) -c $< -o $@

# Hosted known-answer test: linked with glibc, -no-pie because the kernel
# objects are -mcmodel=kernel -fno-pic; not linked with Debian's libzstd or
# libsodium, so every zstd/sodium symbol comes from the kernel build.
KAT_BIN := $(TPT_OBJ)/kat_test
$(KAT_BIN): tests/thirdparty/kat_test.c $(ZSTD_KLIB) $(SODIUM_KLIB) | $(SODIUM_VERSION_H)
	@mkdir -p $(@D)
	$(HOST_CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fno-pie -no-pie \
		-Itests/lib -I$(ZSTD_DIR) -I$(SODIUM_DIR)/include -I$(SODIUM_GEN) \
		-DSODIUM_TEST_DIR='"$(TP_SRC)/libsodium/test/default"' \
		$< $(ZSTD_KLIB) $(SODIUM_KLIB) -o $@

# lwIP's kernel objects and our sys_arch on the hosted platform's threads.
# lwIP's private struct timeval would clash with glibc's: use glibc's (same
# layout: two longs).
LWIP_HOSTED_BIN := $(TPT_OBJ)/lwip_hosted_test
$(LWIP_HOSTED_BIN): tests/thirdparty/lwip_hosted_test.c $(LWIP_KLIB) $(HOSTED_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fno-pie -no-pie \
		-DLWIP_TIMEVAL_PRIVATE=0 -include sys/time.h -Itests/lib $(LWIP_INC) \
		$< $(LWIP_KLIB) $(HOSTED_LIB) $(HOST_LDLIBS) -o $@

TEST_DEPS += $(LWIP_HOSTED_BIN) $(TP_KLIBS) $(KLIBC_LIB) $(FS_OBJS) $(KAT_BIN) \
	$(BUILD)/kernel/core/kernel/common/plat.o
TESTS += "tests/thirdparty/deps_test.sh $(BUILD)" "tests/thirdparty/link_test.sh $(BUILD)" \
	$(KAT_BIN) $(LWIP_HOSTED_BIN)
