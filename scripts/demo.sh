#!/usr/bin/env bash
# The main job: boot the kernel in QEMU and show its memory map, zones, segments,
# buddyinfo and self-check, as the kernel reports them on its serial port.
set -euo pipefail
cd "$(dirname "$0")/.."
for mem in 128M 6G; do
    echo "== booting kernel/build/kernel.elf with -m $mem =="
    start=$(date +%s.%N)
    set +e
    timeout 120 bash scripts/run-kernel.sh "$mem" "exit=1"
    status=$?
    set -e
    end=$(date +%s.%N)
    case $status in
        1) echo "== -m $mem: self-check passed, QEMU exited in $(printf '%.2f' "$(echo "$end - $start" | bc -l 2>/dev/null || echo 0)") s ==" ;;
        3) echo "== -m $mem: self-check FAILED ==" >&2; exit 1 ;;
        *) echo "== -m $mem: QEMU exited with status $status (kernel crash or timeout) ==" >&2; exit 1 ;;
    esac
done
