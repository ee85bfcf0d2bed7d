#!/usr/bin/env bash
# entropy_test.sh — the kernel's entropy source: virtio-rng when the CPU has
# no RDRAND (TCG's qemu64), RDRAND when the CPU offers it, and a clean error
# when the machine has neither.
PROG=entropy_test
. "$(dirname "$0")/lib.sh"

out=$TMPD/virtio.out
QEMU_EXTRA=(-device virtio-rng-pci,disable-modern=on)
qemu_run "$out" "test=entropy src=virtio-rng"
ktest_report "$out" entropy virtio
expect_rc virtio_exit_status 1

out=$TMPD/rdrand.out
QEMU_EXTRA=(-cpu qemu64,+rdrand -device virtio-rng-pci,disable-modern=on)
qemu_run "$out" "test=entropy src=rdrand"
ktest_report "$out" entropy rdrand
expect_rc rdrand_exit_status 1

out=$TMPD/none.out
QEMU_EXTRA=()
qemu_run "$out" "test=entropy src=none"
ktest_report "$out" entropy none
expect_rc none_exit_status 1
finish
