# kernel/libc/build.mk — the kernel's freestanding libc (libklibc.a), built
# with the kernel flags, no FPU, and -fno-tree-loop-distribute-patterns so its
# own loops are not turned into calls to memcpy/memset.

KLIBC_SRCS := $(sort $(wildcard kernel/libc/*.c))
KLIBC_OBJS := $(patsubst kernel/libc/%.c,$(BUILD)/kernel/libc/%.o,$(KLIBC_SRCS))
KLIBC_LIB  := $(BUILD)/kernel/libklibc.a
KLIBC_CFLAGS := $(KERNEL_CFLAGS) $(KERNEL_NOFPU) -fno-tree-loop-distribute-patterns \
	-fno-builtin -Wall -Wextra -Werror

$(BUILD)/kernel/libc/%.o: kernel/libc/%.c
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KLIBC_CFLAGS) -c $< -o $@

$(KLIBC_LIB): $(KLIBC_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^
