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

# Attach: boot the workload with the gdbstub on a Unix socket, wait for the kernel to finish,
# then let kmemscope attach, check the build-id and the kernel's layout descriptor.
echo "== booting the workload (seed=1 ops=20000 phases=4, -m 1G) with QEMU's gdbstub =="
tmp=$(mktemp -d /tmp/kmemscope-demo.XXXXXX)
qemu-system-x86_64 -kernel kernel/build/kernel.elf -m 1G -append "seed=1 ops=20000 phases=4" \
    -serial "file:$tmp/serial.txt" -display none -no-reboot -accel tcg -monitor none \
    -chardev "socket,id=g,path=$tmp/gdb.sock,server=on,wait=off" -gdb chardev:g -pidfile "$tmp/qemu.pid" &
qemu=$!
trap 'kill $qemu 2>/dev/null || true; sleep 0.5; kill -9 $qemu 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 600); do grep -q "kmem: done" "$tmp/serial.txt" 2>/dev/null && break; sleep 0.1; done
grep -q "kmem: done" "$tmp/serial.txt" || { echo "== the workload did not finish ==" >&2; tail -5 "$tmp/serial.txt" >&2; exit 1; }
grep -E "^kmem: (checkpoint|workload:|done|self-check)" "$tmp/serial.txt" | sed 's/\r$//'
echo "== kmemscope info --target unix:$tmp/gdb.sock =="
"$(swift build --show-bin-path)/kmemscope" info --target "unix:$tmp/gdb.sock" --elf kernel/build/kernel.elf
echo "== kmemscope zones: zones and buddyinfo decoded from guest memory =="
"$(swift build --show-bin-path)/kmemscope" zones --target "unix:$tmp/gdb.sock" --elf kernel/build/kernel.elf
echo "== kmemscope verify --replay: the contract checked from guest memory, and the whole operation log replayed through the reference model =="
"$(swift build --show-bin-path)/kmemscope" verify --replay --target "unix:$tmp/gdb.sock" --elf kernel/build/kernel.elf
