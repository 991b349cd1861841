#!/usr/bin/env bash
# Prints, for each memory size, the wall time from starting QEMU (TCG) to the kernel's
# self-check line, and for a workload run the time to `kmem: done`. Figures only.
#   scripts/boot-times.sh        memory sizes and a workload
#   scripts/boot-times.sh smp    128M at -smp 1, 2, 4, 8: time to `kmem: cpus N` and to the self-check
set -euo pipefail
cd "$(dirname "$0")/.."
measure() {  # MEMORY APPEND MARKER [extra qemu args...]
    local start line mem=$1 append=$2 marker=$3
    shift 3
    start=$(date +%s%N)
    while IFS= read -r line; do
        if [[ $line == *"$marker"* ]]; then
            echo "$mem ${append:-(no args)} $*: '$marker' after $(( ($(date +%s%N) - start) / 1000000 )) ms"
            break
        fi
    done < <(timeout 300 bash scripts/run-kernel.sh "$mem" "$append" "$@" 2>&1)
}
if [[ ${1:-} == smp ]]; then
    for n in 1 2 4 8; do
        measure 128M "exit=1" "kmem: cpus $n" -smp "$n"
        measure 128M "exit=1" "kmem: self-check:" -smp "$n"
    done
    exit 0
fi
for mem in 128M 1G 6G; do measure "$mem" "exit=1" "kmem: self-check:"; done
measure 1G "seed=1 ops=100000 phases=4 exit=1" "kmem: done"
