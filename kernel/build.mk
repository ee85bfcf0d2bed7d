# kernel/build.mk — the portable core and the hosted platform as one static
# library (libphantom.a) for hosted programs, and the same core compiled with
# the kernel's freestanding flags (core-freestanding) so no Linux-ism creeps in.

HOSTED_SRCS := $(sort $(wildcard kernel/hosted/*.c))
HOSTED_OBJS := $(patsubst %.c,$(BUILD)/hosted/obj/%.o,$(CORE_SRCS) $(HOSTED_SRCS))
HOSTED_LIB  := $(BUILD)/hosted/libphantom.a

$(BUILD)/hosted/obj/%.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

# The page hash is zstd's bundled xxhash, used as a header (persist/page_hash.c).
$(BUILD)/hosted/obj/persist/page_hash.o: HOST_CFLAGS += -I$(BUILD)/third_party/zstd/lib
$(BUILD)/hosted/obj/persist/page_hash.o: $(BUILD)/third_party/.stamp-zstd

$(HOSTED_LIB): $(HOSTED_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# The core with the kernel's flags; libc headers come from kernel/libc.
CORE_KOBJS := $(patsubst %.c,$(BUILD)/kernel/core/%.o,$(CORE_SRCS))

$(BUILD)/kernel/core/%.o: %.c
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) $(THIRD_PARTY_KINC) -Wall -Wextra -Werror -Ikernel/include -c $< -o $@

core-freestanding: $(CORE_KOBJS)

# The hosted node.
PHANTOMD := $(BUILD)/hosted/phantomd
$(PHANTOMD): kernel/hosted/main/phantomd.c $(HOSTED_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -Ikernel/hosted $< $(HOSTED_LIB) $(HOST_LDLIBS) -o $@
