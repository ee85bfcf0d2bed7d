# tests/fuzz/build.mk — libFuzzer targets, included from cluster-tools/build.mk.
# The VM's class-file loader + verifier (+ a bounded run of what loads) is
# built with clang -fsanitize=fuzzer,address,undefined and run by make test
# for a bounded time (FUZZ_TEST_SECONDS) from a seed corpus of the
# assembled samples. A missing clang or fuzzer runtime is a test FAILURE
# (run_fuzz.sh reports the compiler's error), never a skip.

FUZZ_CC           ?= clang
FUZZ_SECONDS      ?= 60
FUZZ_TEST_SECONDS ?= 20
VM_FUZZ           := $(BUILD)/fuzz/vm_classfile_fuzz
VM_FUZZ_SRCS      := tests/fuzz/fuzz_classfile.c $(sort $(wildcard vm/*.c)) kernel/common/plat.c

# The recipe never fails the build: on error it leaves $@.err for the test.
$(VM_FUZZ): $(VM_FUZZ_SRCS) $(wildcard vm/*.h vm/*.def)
	@mkdir -p $(@D)
	@rm -f $@ $@.err
	@$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -Ikernel/include $(VM_FUZZ_SRCS) -o $@ 2>$@.err || \
		echo "$(FUZZ_CC) failed to build $@ (see $@.err)"
	@[ ! -f $@ ] || rm -f $@.err

TEST_DEPS += $(VM_FUZZ) $(PASM)
TESTS     += "tests/fuzz/run_fuzz.sh $(VM_FUZZ) $(PASM) $(FUZZ_TEST_SECONDS)"

.PHONY: fuzz-vm
fuzz-vm: $(VM_FUZZ)
	@mkdir -p $(BUILD)/fuzz/vm_corpus
	$(VM_FUZZ) -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/vm_corpus
