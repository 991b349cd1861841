#!/usr/bin/env bash
# The kernel's allocator built for the host (KernelMM, release): ns per alloc+free pair at
# orders 0 (through the per-CPU cache), 3, 9, 11, a mixed sequence, and kmalloc/kfree per size
# class. Wall-clock figures: run on a quiet machine, or compare instruction counts with
#   valgrind --tool=callgrind .build/release/kmem-bench 64
# Usage: scripts/bench-allocator.sh [MiB of host "physical memory", default 512]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product kmem-bench >/dev/null
.build/release/kmem-bench "${1:-512}"
