# Makefile — the one entry point. `make run` boots a node, `make test` runs
# every test, `make bench` every benchmark part, `make check-long` the long
# campaigns. Each first runs deploy/deps.sh (installs what is missing, no
# network when everything is present) and then re-enters make, so rules can
# see the fetched third-party sources. Each directory's build.mk owns its rules.

BUILD      ?= build
HOST_CC    ?= gcc
KERNEL_CC  ?= gcc
IMAGE      ?= $(BUILD)/phantom.img
ACCEL      ?= tcg
BENCH      ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

export BUILD

PUBLIC_GOALS := all run run-hosted test bench check-long

ifndef PHANTOM_INNER

.DEFAULT_GOAL := all
.PHONY: $(PUBLIC_GOALS) deps clean
$(PUBLIC_GOALS): deps
	@$(MAKE) --no-print-directory -j$(JOBS) PHANTOM_INNER=1 $@

# make does not pass a SIGTERM on to its children: the run scripts watch
# this make's pid and stop the node cleanly when it is gone.
run run-hosted: export PHANTOM_MAKE_PID := $(shell echo $$PPID)

deps:
	@deploy/deps.sh

clean:
	rm -rf $(BUILD)/hosted $(BUILD)/kernel $(BUILD)/tests $(BUILD)/bench $(BUILD)/node $(BUILD)/tools

else # ---------------------------------------------------------------- inner

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

# Flags for code we write, on the hosted build.
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -fno-strict-aliasing \
	-D_GNU_SOURCE -Ikernel/include -MMD -MP
HOST_LDLIBS := -lsodium -lzstd -lpthread

# Flags for the bare-metal kernel target (see shared BAREMETAL-NOTES).
# Third-party libraries and the kernel libc use no FPU/SSE registers
# (KERNEL_NOFPU); the portable core may use SSE for the VM's floating point,
# and the kernel saves that state on thread switches.
KERNEL_INC    := -isystem $(shell $(KERNEL_CC) -print-file-name=include) \
	-Ikernel/libc/include
KERNEL_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -nostdinc $(KERNEL_INC) \
	-mno-red-zone -mcmodel=kernel -fno-pic -fno-stack-protector \
	-fno-strict-aliasing -fno-strict-overflow -fno-asynchronous-unwind-tables \
	-MMD -MP
KERNEL_NOFPU  := -mgeneral-regs-only

# The portable core: built for both targets from the same files.
CORE_DIRS := vm persist replication net
CORE_SRCS := $(sort $(wildcard $(addsuffix /*.c,$(CORE_DIRS))) \
	$(wildcard kernel/common/*.c))

PASM_OBJ   := $(BUILD)/tools/asm.o   # the assembler core, for tools and tests
TESTS      :=   # commands tests/run.sh runs (one "program" each)
TEST_DEPS  :=   # files those commands need built first
LONG_TESTS :=
LONG_DEPS  :=
BENCH_PARTS :=  # part names; BENCH_CMD_<name> runs one
BENCH_DEPS  :=

include kernel/build.mk
include kernel/libc/build.mk
include deploy/third_party.mk
include tests/build.mk
include cluster-tools/build.mk
include kernel/x86_64/build.mk
include deploy/node.mk

.PHONY: $(PUBLIC_GOALS) core-freestanding

all: $(HOSTED_LIB) $(PHANTOMD) core-freestanding $(TEST_DEPS)

test: all
	@tests/run.sh $(TESTS)

# The long campaigns run for many minutes each: an hour's limit apiece.
check-long: all $(LONG_DEPS)
	@TEST_TIMEOUT=$${TEST_TIMEOUT:-3600} tests/run.sh $(LONG_TESTS)

BENCH_SELECTED := $(if $(BENCH),$(filter $(BENCH),$(BENCH_PARTS)),$(BENCH_PARTS))
bench: all $(BENCH_DEPS)
	@$(if $(BENCH_SELECTED),,echo "no benchmark part named '$(BENCH)'; parts: $(BENCH_PARTS)"; exit 2)
	@set -e; $(foreach p,$(BENCH_SELECTED),echo "== running bench part $(p)"; $(BENCH_CMD_$(p));)

# make run: the bare-metal node in QEMU; make run-hosted: the Linux process.
run: $(KX_ELF32)
	@ACCEL=$(ACCEL) deploy/run-qemu.sh $(NODE_QEMU_IMAGE)
run-hosted: $(PHANTOMD)
	@deploy/run-hosted.sh $(IMAGE)

-include $(shell find $(BUILD)/hosted $(BUILD)/kernel $(BUILD)/tests -name '*.d' 2>/dev/null)

endif
