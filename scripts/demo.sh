#!/usr/bin/env bash
# The main job: boot the kernel in QEMU and show its memory map, zones, segments,
# buddyinfo and self-check, as the kernel reports them on its serial port.
set -euo pipefail
cd "$(dirname "$0")/.."
for mem in 128M 6G; do
    echo "== booting kernel/build/kernel.elf with -m $mem =="
    start=$(date +%s%N)
    set +e
    timeout 120 bash scripts/run-kernel.sh "$mem" "exit=1"
    status=$?
    set -e
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    case $status in
        1) echo "== -m $mem: self-check passed; boot to exit took ${ms} ms under TCG ==" ;;
        3) echo "== -m $mem: self-check FAILED ==" >&2; exit 1 ;;
        124) echo "== -m $mem: no exit within 120 s (the kernel halted: see its last lines) ==" >&2; exit 1 ;;
        *) echo "== -m $mem: QEMU exited with status $status ==" >&2; exit 1 ;;
    esac
done
