# cluster-tools/build.mk — the operator tools, built for the host into
# $(BUILD)/tools/: phantom-asm (cluster-tools/asm/). Also the VM's tool
# test, and tests/fuzz/build.mk (libFuzzer targets, bounded in make test).

PASM      := $(BUILD)/tools/phantom-asm
PASM_SRCS := $(sort $(wildcard cluster-tools/asm/*.c))

$(PASM): $(PASM_SRCS) cluster-tools/asm/asm.h $(HOSTED_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(PASM_SRCS) $(HOSTED_LIB) $(HOST_LDLIBS) -o $@

all: $(PASM)
TEST_DEPS += $(PASM)
TESTS     += "tests/vm/asm_tool_test.sh $(PASM)"

# libFuzzer targets and their bounded run in make test.
include tests/fuzz/build.mk
