# cluster-tools/build.mk — the operator tools, built for the host into
# $(BUILD)/tools/: phantom-asm (cluster-tools/asm/). Also the VM's tool
# test, and tests/fuzz/build.mk (libFuzzer targets, bounded in make test).

PASM      := $(BUILD)/tools/phantom-asm

# The assembler core (asm.c) is one object: the tool, the tests, the node's
# image tools and benchmarks link it.
$(PASM_OBJ): cluster-tools/asm/asm.c cluster-tools/asm/asm.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(PASM): cluster-tools/asm/phantom-asm.c $(PASM_OBJ) $(HOSTED_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $< $(PASM_OBJ) $(HOSTED_LIB) $(HOST_LDLIBS) -o $@

all: $(PASM)
TEST_DEPS += $(PASM)
TESTS     += "tests/vm/asm_tool_test.sh $(PASM)"

# libFuzzer targets and their bounded run in make test.
include tests/fuzz/build.mk
