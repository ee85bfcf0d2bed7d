# tests/build.mk — unit tests (tests/unit/NAME_test.c, one program each, linked
# with libphantom.a), benchmark parts (tests/bench/NAME_bench.c) and the shell
# tests (tests/*/NAME_test.sh). Other build.mk files add their own commands to
# TESTS, LONG_TESTS and BENCH_PARTS.

UNIT_SRCS := $(sort $(wildcard tests/unit/*_test.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
TESTS     += $(UNIT_BINS)
TEST_DEPS += $(UNIT_BINS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(HOSTED_LIB) $(PASM_OBJ)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -Itests/lib -Ikernel/hosted $< $(PASM_OBJ) $(HOSTED_LIB) $(HOST_LDLIBS) -o $@

# The nursery's randomized stress test: 40 seeds in make test, 2000 here.
LONG_TESTS += "$(BUILD)/tests/unit/vm_young_stress_test 2000"
LONG_DEPS  += $(BUILD)/tests/unit/vm_young_stress_test

# Benchmarks: tests/bench/NAME_bench.c becomes part NAME unless a build.mk
# already defines BENCH_CMD_NAME with its own rule.
BENCH_LIB  := $(BUILD)/tests/bench/bench_report.o
BENCH_SRCS := $(sort $(wildcard tests/bench/*_bench.c))
BENCH_BINS := $(patsubst tests/bench/%_bench.c,$(BUILD)/tests/bench/%_bench,$(BENCH_SRCS))
BENCH_DEPS += $(BENCH_BINS)
$(foreach b,$(BENCH_SRCS),$(eval BENCH_PARTS += $(notdir $(b:_bench.c=)))\
	$(eval BENCH_CMD_$(notdir $(b:_bench.c=)) ?= $(BUILD)/tests/bench/$(notdir $(b:.c=))))

$(BENCH_LIB): tests/bench/bench_report.c tests/bench/bench_report.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/tests/bench/%_bench: tests/bench/%_bench.c $(BENCH_LIB) $(HOSTED_LIB) $(PASM_OBJ)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -Itests/lib -Ikernel/hosted -Itests/bench $< $(BENCH_LIB) $(PASM_OBJ) $(HOSTED_LIB) $(HOST_LDLIBS) -lm -o $@

# The hosted node end to end (kill -9 campaign, clean stop, bad input).
TESTS      += "tests/node/phantomd_test.sh 50"
TEST_DEPS  += $(PHANTOMD)
LONG_TESTS += "tests/node/phantomd_test.sh 1000"
LONG_DEPS  += $(PHANTOMD)

# The persist crash campaign: a mutator killed at random, checked by replay.
CRASH_CHILD := $(BUILD)/tests/persist/crash_child
$(CRASH_CHILD): tests/persist/crash_child.c $(HOSTED_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -Ikernel/hosted $< $(HOSTED_LIB) $(HOST_LDLIBS) -o $@
TESTS      += "tests/persist/crash_campaign.sh 200"
TEST_DEPS  += $(CRASH_CHILD)
LONG_TESTS += "tests/persist/crash_campaign.sh 3000"
LONG_DEPS  += $(CRASH_CHILD)

# Bench part boot needs the kernel and the hosted node (its peer).
$(BUILD)/tests/bench/boot_bench: | $(BUILD)/kernel/phantom.elf32 $(BUILD)/hosted/phantomd

# A node on an image with injected disk errors (one flipped byte per block).
TESTS     += tests/node/disk_errors_test.sh

# kill -9 while a client writes to the KV service: acknowledged writes survive.
TESTS      += "tests/node/kv_kill_test.sh 50"
LONG_TESTS += "tests/node/kv_kill_test.sh 500"
