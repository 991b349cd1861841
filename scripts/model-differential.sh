#!/usr/bin/env bash
# The reference model (AllocatorModel) beside the kernel's allocator (KernelMM) on many random
# operation sequences: identical log entries op by op, identical final states, and a replay of
# KernelMM's log through the model without divergence. The default test runs 200 seeds of 400
# operations; this long mode runs SEEDS seeds (default 4000) of OPS operations (default 400),
# spread over the test's 8 configurations (small/large memory map, poisoning off/on). The
# small map's log ring holds 8192 entries: keep OPS below about 7000 (a longer run makes the
# replay from boot report the overwritten entries, as it must).
#   KMEMSCOPE_DIFF_DEEP=1 also compares the whole state after every operation (slow): use it
#   with the failing seed to find the operation where the states part.
# Usage: scripts/model-differential.sh [SEEDS] [OPS]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
KMEMSCOPE_DIFF_SEEDS="${1:-4000}" KMEMSCOPE_DIFF_OPS="${2:-400}" \
    swift test --filter 'ModelDifferentialTests.DifferentialTests/randomSequences' 2>&1 \
    | grep -E 'differential batch|Test run|✘|seed [0-9]+ '
