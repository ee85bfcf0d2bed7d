# kernel/x86_64/build.mk — the bare-metal kernel image: kernel/x86_64 and
# drivers/ compiled with the kernel flags (no FPU registers, frame pointers
# kept for the panic backtrace), linked as ELF64 in the higher half and
# converted to ELF32 for multiboot loaders (QEMU -kernel, iPXE). Also the QEMU
# tests (tests/qemu/*_test.sh).

KX_SRCS := $(sort $(wildcard kernel/x86_64/*.c kernel/x86_64/*.S drivers/*.c))
KX_OBJS := $(patsubst %,$(BUILD)/kernel/x86_64/obj/%.o,$(KX_SRCS))
KX_CFLAGS := $(KERNEL_CFLAGS) $(KERNEL_NOFPU) -Wall -Wextra -Werror \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
	-fno-tree-loop-distribute-patterns \
	-I. -Ikernel/include -Ikernel/x86_64 -Idrivers
KX_ELF   := $(BUILD)/kernel/phantom.elf
KX_ELF32 := $(BUILD)/kernel/phantom.elf32
# The kernel libc (kernel/libc/build.mk).
KX_KLIBC := $(KLIBC_LIB)
$(if $(KX_KLIBC),,$(error kernel/x86_64/build.mk needs KLIBC_LIB from kernel/libc/build.mk))

$(BUILD)/kernel/x86_64/obj/%.c.o: %.c kernel/x86_64/build.mk
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KX_CFLAGS) -c $< -o $@

$(BUILD)/kernel/x86_64/obj/%.S.o: %.S kernel/x86_64/build.mk
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KX_CFLAGS) -D__ASSEMBLER__ -c $< -o $@

# The portable core (kernel/build.mk's CORE_KOBJS) as an archive: the image
# holds only the core modules something in it uses.
KX_CORE_LIB := $(BUILD)/kernel/libphantom_core.a
KX_LIBS := $(KX_CORE_LIB) $(ZSTD_KLIB) $(SODIUM_KLIB) $(KX_KLIBC)

$(KX_CORE_LIB): $(CORE_KOBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(KX_ELF): $(KX_OBJS) $(KX_LIBS) kernel/x86_64/kernel.ld
	@mkdir -p $(@D)
	ld -nostdlib -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
		-T kernel/x86_64/kernel.ld -o $@ $(KX_OBJS) \
		--start-group $(KX_LIBS) --end-group

$(KX_ELF32): $(KX_ELF)
	objcopy -O elf32-i386 $< $@

.PHONY: kernel run-kernel
kernel: $(KX_ELF32)
all: $(KX_ELF32)

# Boots the kernel interactively (serial console on this terminal, a 64 MiB
# disk image as vda): PHANTOM_INNER=1 make run-kernel [KARGS="test=..."].
KX_RUN_DISK := $(BUILD)/kernel/run-disk.img
ACCEL ?= tcg
run-kernel: $(KX_ELF32)
	@test -e $(KX_RUN_DISK) || truncate -s 64M $(KX_RUN_DISK)
	qemu-system-x86_64 -M pc -accel $(ACCEL) -m 256 -no-reboot -display none \
		-monitor none -nic none -serial stdio \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive file=$(KX_RUN_DISK),if=none,id=d0,format=raw \
		-device virtio-blk-pci,drive=d0,disable-modern=on \
		-device virtio-rng-pci,disable-modern=on \
		-kernel $(KX_ELF32) -append "$(KARGS)"; \
	rc=$$?; [ $$rc -eq 1 ] || exit $$rc   # 1: the kernel halted cleanly

QEMU_TESTS := $(sort $(wildcard tests/qemu/*_test.sh))
TESTS     += $(QEMU_TESTS)
TEST_DEPS += $(KX_ELF32) $(BUILD)/tests/qemu/image_tool

# The hosted side of the image portability test.
$(BUILD)/tests/qemu/image_tool: tests/qemu/image_tool.c tests/qemu/image_pattern.h \
		$(PASM_OBJ) $(HOSTED_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -I. -Ikernel/hosted $< $(PASM_OBJ) \
		$(HOSTED_LIB) $(HOST_LDLIBS) -o $@
