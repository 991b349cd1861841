#!/usr/bin/env bash
# Prints, for each memory size, the wall time from starting QEMU (TCG) to the kernel's
# self-check line, and for a workload run the time to `kmem: done`. Figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
measure() {  # MEMORY APPEND MARKER
    local start line
    start=$(date +%s%N)
    while IFS= read -r line; do
        if [[ $line == *"$3"* ]]; then
            echo "$1 ${2:-(no args)}: '$3' after $(( ($(date +%s%N) - start) / 1000000 )) ms"
            break
        fi
    done < <(timeout 300 bash scripts/run-kernel.sh "$1" "$2" 2>&1)
}
for mem in 128M 1G 6G; do measure "$mem" "exit=1" "kmem: self-check:"; done
measure 1G "seed=1 ops=100000 phases=4 exit=1" "kmem: done"
