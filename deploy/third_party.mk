# deploy/third_party.mk — the kernel's freestanding builds of the third-party
# libraries fetched by deploy/deps.sh into $(BUILD)/third_party (versions in
# deploy/third_party.lock): build/kernel/lib{zstd,sodium,raft,lwip}.a, the
# include flags the kernel build of the core needs, and their tests.

TP_SRC  := $(BUILD)/third_party
TP_OBJ  := $(BUILD)/kernel/tp
TP_GEN  := $(BUILD)/kernel/gen
# Third-party code is not ours to warn about; only errors stop the build.
TP_CFLAGS := $(KERNEL_CFLAGS) $(KERNEL_NOFPU) -w

# ---- zstd: common + compress + decompress, single-threaded, no asm --------
ZSTD_DIR    := $(TP_SRC)/zstd/lib
ZSTD_SRCS   := $(filter-out %/zstdmt_compress.c %/pool.c %/threading.c, \
	$(wildcard $(ZSTD_DIR)/common/*.c $(ZSTD_DIR)/compress/*.c $(ZSTD_DIR)/decompress/*.c))
ZSTD_OBJS   := $(patsubst $(ZSTD_DIR)/%.c,$(TP_OBJ)/zstd/%.o,$(ZSTD_SRCS))
ZSTD_KLIB   := $(BUILD)/kernel/libzstd.a
ZSTD_DEFS   := -DZSTD_LEGACY_SUPPORT=0 -DZSTD_DISABLE_ASM -DDEBUGLEVEL=0 \
	-DZSTD_TRACE=0 -DDYNAMIC_BMI2=0

$(TP_OBJ)/zstd/%.o: $(ZSTD_DIR)/%.c
	@mkdir -p $(@D)
	$(KERNEL_CC) $(TP_CFLAGS) $(ZSTD_DEFS) -c $< -o $@

# ---- libsodium: the primitives the secure channel and persist/ use --------
# BLAKE2b, Ed25519, X25519 + kx, (X)ChaCha20-Poly1305 AEAD and secretstream,
# randombytes (custom implementation, set by the kernel before sodium_init),
# utils. argon2-core and salsa20 only because sodium_init() calls their
# implementation pickers.
SODIUM_DIR  := $(TP_SRC)/libsodium/src/libsodium
SODIUM_SUBDIRS := sodium randombytes crypto_verify/sodium \
	crypto_generichash crypto_generichash/blake2b crypto_generichash/blake2b/ref \
	crypto_hash/sha512 crypto_hash/sha512/cp \
	crypto_sign crypto_sign/ed25519 crypto_sign/ed25519/ref10 \
	crypto_core/ed25519 crypto_core/ed25519/ref10 crypto_core/hchacha20 \
	crypto_core/hsalsa20/ref2 crypto_core/salsa/ref \
	crypto_scalarmult crypto_scalarmult/curve25519 crypto_scalarmult/curve25519/ref10 \
	crypto_kx crypto_onetimeauth/poly1305 crypto_onetimeauth/poly1305/donna \
	crypto_stream/chacha20 crypto_stream/chacha20/ref crypto_stream/xchacha20 \
	crypto_stream/salsa20 crypto_stream/salsa20/ref \
	crypto_aead/chacha20poly1305/sodium crypto_aead/xchacha20poly1305/sodium \
	crypto_secretstream/xchacha20poly1305 crypto_pwhash/argon2
SODIUM_SRCS := $(filter-out %avx2.c %avx512f.c %ssse3.c %sse41.c, \
	$(wildcard $(addprefix $(SODIUM_DIR)/,$(addsuffix /*.c,$(SODIUM_SUBDIRS)))))
SODIUM_OBJS := $(patsubst $(SODIUM_DIR)/%.c,$(TP_OBJ)/sodium/%.o,$(SODIUM_SRCS))
SODIUM_KLIB := $(BUILD)/kernel/libsodium.a
SODIUM_GEN  := $(TP_GEN)/sodium/include
SODIUM_VERSION_H := $(SODIUM_GEN)/sodium/version.h
SODIUM_INC  := -I$(SODIUM_DIR)/include -I$(SODIUM_DIR)/include/sodium \
	-I$(SODIUM_GEN) -I$(SODIUM_GEN)/sodium
SODIUM_DEFS := -DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1 -DHAVE_TI_MODE=1 \
	-DHAVE_INLINE_ASM=1 -DHAVE_ATOMIC_OPS=1 -DHAVE_WEAK_SYMBOLS=1 -DMINIMAL=1 \
	-DRANDOMBYTES_CUSTOM_IMPLEMENTATION=1 -DRANDOMBYTES_DEFAULT_IMPLEMENTATION=NULL

# version.h as libsodium 1.0.18's configure writes it (library 10.3, minimal);
# it names export.h through <sodium/...> so that users need no -I into
# libsodium's header directory.
$(SODIUM_VERSION_H): $(SODIUM_DIR)/include/sodium/version.h.in
	@mkdir -p $(@D)
	sed -e 's/@VERSION@/1.0.18/' -e 's/@SODIUM_LIBRARY_VERSION_MAJOR@/10/' \
	    -e 's/@SODIUM_LIBRARY_VERSION_MINOR@/3/' \
	    -e 's/@SODIUM_LIBRARY_MINIMAL_DEF@/#define SODIUM_LIBRARY_MINIMAL 1/' \
	    -e 's|#include "export.h"|#include <sodium/export.h>|' $< >$@.tmp
	mv $@.tmp $@

$(TP_OBJ)/sodium/%.o: $(SODIUM_DIR)/%.c | $(SODIUM_VERSION_H)
	@mkdir -p $(@D)
	$(KERNEL_CC) $(TP_CFLAGS) $(SODIUM_DEFS) $(SODIUM_INC) -c $< -o $@

# ---- raft (cowsql/raft 0.22.1): the core with the v0 API, no libuv --------
# Its sources include "../include/raft.h", so raft.h is generated in place.
RAFT_DIR    := $(TP_SRC)/raft
RAFT_SRCS   := $(filter-out $(RAFT_DIR)/src/uv% $(RAFT_DIR)/src/fixture.c \
	$(RAFT_DIR)/src/syscall.c, $(wildcard $(RAFT_DIR)/src/*.c))
RAFT_OBJS   := $(patsubst $(RAFT_DIR)/src/%.c,$(TP_OBJ)/raft/%.o,$(RAFT_SRCS))
RAFT_KLIB   := $(BUILD)/kernel/libraft.a
RAFT_H      := $(RAFT_DIR)/include/raft.h
RAFT_DEFS   := -DV0_ENABLED -fno-strict-aliasing

$(RAFT_H): $(RAFT_DIR)/include/raft.h.in
	sed 's/@enable_v0@/yes/' $< >$@.tmp
	mv $@.tmp $@

$(TP_OBJ)/raft/%.o: $(RAFT_DIR)/src/%.c | $(RAFT_H)
	@mkdir -p $(@D)
	$(KERNEL_CC) $(TP_CFLAGS) $(RAFT_DEFS) -c $< -o $@

# ---- lwIP 2.1.3 (pristine): core, IPv4, TCP, UDP, DHCP, sockets -----------
LWIP_DIR    := $(TP_SRC)/lwip/src
LWIP_SRCS   := $(addprefix $(LWIP_DIR)/core/,init.c def.c dns.c inet_chksum.c \
	ip.c mem.c memp.c netif.c pbuf.c raw.c stats.c sys.c altcp.c altcp_alloc.c \
	altcp_tcp.c tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
	$(wildcard $(LWIP_DIR)/core/ipv4/*.c) $(LWIP_DIR)/netif/ethernet.c \
	$(addprefix $(LWIP_DIR)/api/,api_lib.c api_msg.c err.c if_api.c netbuf.c \
	netdb.c netifapi.c sockets.c tcpip.c)
LWIP_OBJS   := $(patsubst $(LWIP_DIR)/%.c,$(TP_OBJ)/lwip/%.o,$(LWIP_SRCS))
LWIP_PORT_SRCS := $(sort $(wildcard net/lwip/*.c))
LWIP_PORT_OBJS := $(patsubst net/lwip/%.c,$(TP_OBJ)/lwip-port/%.o,$(LWIP_PORT_SRCS))
LWIP_KLIB   := $(BUILD)/kernel/liblwip.a
LWIP_INC    := -Inet/lwip -I$(LWIP_DIR)/include

$(TP_OBJ)/lwip/%.o: $(LWIP_DIR)/%.c
	@mkdir -p $(@D)
	$(KERNEL_CC) $(TP_CFLAGS) $(LWIP_INC) -c $< -o $@

# Our port is our code: full warnings. lwip_plat.c alone sees plat.h (its
# ERR_* names clash with lwIP's err.h).
$(TP_OBJ)/lwip-port/%.o: net/lwip/%.c
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) $(KERNEL_NOFPU) -Wall -Wextra -Werror $(LWIP_INC) \
		-Ikernel/include -c $< -o $@

# ---- archives --------------------------------------------------------------
# Each archive also depends on its source's stamp, so a tree that deps.sh has
# not filled fails with a clear message instead of an empty library.
$(ZSTD_KLIB): $(TP_SRC)/.stamp-zstd $(ZSTD_OBJS)
$(SODIUM_KLIB): $(TP_SRC)/.stamp-libsodium $(SODIUM_OBJS)
$(RAFT_KLIB): $(TP_SRC)/.stamp-raft $(RAFT_OBJS)
$(LWIP_KLIB): $(TP_SRC)/.stamp-lwip $(LWIP_OBJS) $(LWIP_PORT_OBJS)
$(ZSTD_KLIB) $(SODIUM_KLIB) $(RAFT_KLIB) $(LWIP_KLIB):
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $(filter %.o,$^)

# Extracted sources keep their tarball mtimes: a re-fetch (new version in the
# lock) must still rebuild every object.
$(ZSTD_OBJS): $(TP_SRC)/.stamp-zstd
$(SODIUM_OBJS) $(SODIUM_VERSION_H): $(TP_SRC)/.stamp-libsodium
$(RAFT_OBJS) $(RAFT_H): $(TP_SRC)/.stamp-raft
$(LWIP_OBJS): $(TP_SRC)/.stamp-lwip

$(TP_SRC)/.stamp-%:
	@echo "$@ missing: run deploy/deps.sh (make test/all run it for you)" >&2
	@exit 1

TP_KLIBS := $(ZSTD_KLIB) $(SODIUM_KLIB) $(RAFT_KLIB) $(LWIP_KLIB)
.PHONY: third-party-kernel
third-party-kernel: $(TP_KLIBS) $(KLIBC_LIB)

# What the kernel build of the portable core needs for <zstd.h>, <sodium.h>
# and (replication/) <raft.h>. A hosted raft build can reuse RAFT_SRCS,
# RAFT_DEFS and RAFT_H.
THIRD_PARTY_KINC := -I$(ZSTD_DIR) -I$(SODIUM_DIR)/include -I$(SODIUM_GEN) \
	-I$(RAFT_DIR)/include
$(CORE_KOBJS): | $(SODIUM_VERSION_H) $(RAFT_H)

# ---- tests -----------------------------------------------------------------
include tests/thirdparty/build.mk
