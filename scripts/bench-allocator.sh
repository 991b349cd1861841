#!/usr/bin/env bash
# The kernel's allocator built for the host (KernelMM, release, whole-module -O): per alloc+free
# pair at order 0 (through the per-CPU cache), 3, 9, 10, 11, a mixed sequence, kmalloc+kfree per
# size class (a cached class: one object of it stays allocated), the 16-byte pair on an empty
# cache (a slab grown and returned every time) and a large kmalloc. One row per figure of
# docs/performance.md's table.
#
#   scripts/bench-allocator.sh [--runs N] [MiB]   ns per pair, the best of N runs (default 5):
#                                                 the machine is shared, the best run is the
#                                                 least disturbed one
#   scripts/bench-allocator.sh --instructions     instructions per pair through callgrind
#                                                 (repeatable: a run of N rounds minus a run of
#                                                 0 rounds, divided by N; ~2 minutes)
# Callgrind counts each iteration of a `rep stos` as an instruction: the empty-cache row's page
# fill (memset of 4 KiB) weighs ~4,000 there, far more than its time.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
mode=ns runs=5 megabytes=512
while [ $# -gt 0 ]; do
    case "$1" in
        --instructions) mode=instructions ;;
        --runs) runs=$2; shift ;;
        [0-9]*) megabytes=$1 ;;
        *) echo "usage: $0 [--instructions] [--runs N] [MiB]" >&2; exit 2 ;;
    esac
    shift
done
swift build -c release --product kmem-bench >/dev/null
bin=.build/release/kmem-bench

# name:rounds for the instruction counts (kmem-bench's own names).
rows=("order 0 (per-CPU cache):20000" "order 3:5000" "order 9:500" "order 10:200" "order 11:100"
      "mixed orders 0…5 (64 live):5000"
      "kmalloc+kfree 16:5000" "kmalloc+kfree 32:5000" "kmalloc+kfree 64:5000" "kmalloc+kfree 128:5000"
      "kmalloc+kfree 256:5000" "kmalloc+kfree 512:5000" "kmalloc+kfree 1024:5000" "kmalloc+kfree 2048:5000"
      "kmalloc+kfree 16, empty cache:1000" "kmalloc+kfree 8192:2000")

if [ "$mode" = instructions ]; then
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" 64 "$1" "$2" 2>&1 | grep -oP "Collected : \K[0-9]+"; }
    echo "kmem-bench: KernelMM, instructions per alloc+free pair (callgrind; N rounds minus 0 rounds)"
    for t in "${rows[@]}"; do
        name=${t%:*} n=${t##*:}
        a=$(ir "$name" 0) b=$(ir "$name" "$n")
        printf '%-34s %8d instructions\n' "$name" $(( (b - a) / n ))
    done
else
    out=$(for _ in $(seq "$runs"); do "$bin" "$megabytes"; done)
    echo "kmem-bench: KernelMM over $megabytes MiB, ns per alloc+free pair, best of $runs runs (lower is better)"
    # kmem-bench's rows, in its order, each with its smallest figure.
    awk '/ ns$/ { v = $(NF-1); name = $0; sub(/ +[0-9.]+ ns$/, "", name)
                  if (!(name in best)) { order[++n] = name; best[name] = v } else if (v + 0 < best[name] + 0) best[name] = v }
         END { for (i = 1; i <= n; i++) printf "%-34s %s ns\n", order[i], best[order[i]] }' <<<"$out"
fi
