#!/usr/bin/env bash
# The kernel's allocator built for the host (KernelMM, release): ns per alloc+free pair at
# orders 0 (through the per-CPU cache), 3, 9, 11, a mixed sequence, and kmalloc/kfree per size
# class. Wall-clock figures: run on a quiet machine. Repeatable instruction counts per round
# (what the notes quote) come from callgrind, subtracting a zero-round run:
#   scripts/bench-allocator.sh --instructions
# Usage: scripts/bench-allocator.sh [MiB of host "physical memory", default 512 | --instructions]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product kmem-bench >/dev/null
bin=.build/release/kmem-bench
if [ "${1:-}" = --instructions ]; then
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 64 "$1" "$2" 2>&1 | grep -oP "Collected : \K[0-9]+"; }
    for t in "order 0:20000" "order 3:5000" "order 9:500" "order 11:100" "mixed:5000" "kmalloc+kfree 64:5000" "kmalloc+kfree 8192:2000"; do
        name=${t%%:*} n=${t##*:}
        a=$(ir "$name" 0) b=$(ir "$name" "$n")
        printf '%-28s %8d instructions per round\n' "$name" $(( (b - a) / n ))
    done
else
    "$bin" "${1:-512}"
fi
