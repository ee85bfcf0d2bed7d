# cluster-tools/build.mk — the operator tools, built for the host into
# $(BUILD)/tools/: phantom-asm (cluster-tools/asm/). Also the VM's tool
# test and its libFuzzer target (make fuzz-vm; FUZZ_SECONDS to run it).

PASM      := $(BUILD)/tools/phantom-asm
PASM_SRCS := $(sort $(wildcard cluster-tools/asm/*.c))

$(PASM): $(PASM_SRCS) cluster-tools/asm/asm.h $(HOSTED_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(PASM_SRCS) $(HOSTED_LIB) $(HOST_LDLIBS) -o $@

all: $(PASM)
TEST_DEPS += $(PASM)
TESTS     += "tests/vm/asm_tool_test.sh $(PASM)"

# libFuzzer: the VM's core sources compiled with clang and sanitizers.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
VM_FUZZ      := $(BUILD)/fuzz/vm_classfile_fuzz
.PHONY: fuzz-vm
$(VM_FUZZ): tests/vm/fuzz_classfile.c $(wildcard vm/*.c vm/*.h vm/*.def) kernel/common/plat.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ikernel/include \
		tests/vm/fuzz_classfile.c $(wildcard vm/*.c) kernel/common/plat.c -o $@
fuzz-vm: $(VM_FUZZ)
	@mkdir -p $(BUILD)/fuzz/vm_corpus
	$(VM_FUZZ) -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/vm_corpus
