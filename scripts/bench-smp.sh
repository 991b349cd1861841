#!/usr/bin/env bash
# Order-0 alloc+free pairs per CPU with 1, 2 and 4 CPUs at once (issue 19's scaling table,
# docs/performance.md): on the host, KernelMM with N threads each a CPU of one arena
# (kmem-bench's "order 0, N CPUs at once" rows: all released together, each timing its own
# pairs, best of 5 runs); in the guest, the kernel's pcpbench=K diagnostic at -smp 4 (rounds
# of 1, 2, 4 CPUs at once, TSC calibrated against the PIT) under QEMU's single-threaded and
# multi-threaded TCG. Prints one table: ns per pair per CPU, and the ratio to 1 CPU; the host
# rows in wall time and in each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID: with more threads
# than free cores, wall time counts the waits for a core), each with the load average.
#
#   scripts/bench-smp.sh [GUEST_PAIRS]     (default 20000 single-threaded; a tenth multi-threaded,
#                                           where every lock xadd stops all vCPUs)
# Timing only: nothing here is asserted (the machine is shared; say its load with the numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
pairs=${1:-20000}
swift build -c release --product kmem-bench >/dev/null
make -s kernel >/dev/null
bin=.build/release/kmem-bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A host hostcpu hostload
for n in 1 2 4; do
    label="order 0, $n CPU$([ "$n" = 1 ] || echo s) at once (threads)"
    line=$("$bin" 512 "$label")
    host[$n]=$(grep -oP 'at once \(threads\)\s+\K[0-9.]+' <<<"$line")
    hostcpu[$n]=$(grep -oP 'thread CPU time \K[0-9.]+' <<<"$line" || echo "-")
    hostload[$n]=$(cut -d' ' -f1 /proc/loadavg)
done

guest() {  # guest ACCEL PAIRS -> "n1 n2 n4" ns/pair per CPU
    local accel=$1 k=$2 out=$tmp/serial-$1.txt
    timeout 900 qemu-system-x86_64 -kernel kernel/build/kernel.elf -m 128M -smp 4 -accel "tcg,thread=$accel" \
        -append "pcpbench=$k exit=1" -serial "file:$out" -display none -no-reboot \
        -device isa-debug-exit,iobase=0xf4,iosize=4 >/dev/null 2>&1 || true
    for n in 1 2 4; do
        grep -oP "kmem: pcpbench: $n cpus? x [0-9]+ pairs: \K[0-9]+" "$out" || echo "-"
    done | paste -sd' '
}
read -r s1 s2 s4 <<<"$(guest single "$pairs")"
sload=$(cut -d' ' -f1 /proc/loadavg)
read -r m1 m2 m4 <<<"$(guest multi $((pairs / 10)))"
mload=$(cut -d' ' -f1 /proc/loadavg)

ratio() { [ "$1" = "-" ] || [ "$2" = "-" ] && { echo "-"; return; }; awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
printf '%-44s %10s %10s %10s %8s %8s\n' "order-0 alloc+free pair, ns per CPU" "1 CPU" "2 CPUs" "4 CPUs" "2/1" "4/1"
printf '%-44s %10s %10s %10s %8s %8s  %s\n' "host threads (KernelMM, release), wall" "${host[1]}" "${host[2]}" "${host[4]}" \
    "$(ratio "${host[2]}" "${host[1]}")" "$(ratio "${host[4]}" "${host[1]}")" "load ${hostload[1]} / ${hostload[2]} / ${hostload[4]}"
printf '%-44s %10s %10s %10s %8s %8s  %s\n' "host threads, each thread's own CPU time" "${hostcpu[1]}" "${hostcpu[2]}" "${hostcpu[4]}" \
    "$(ratio "${hostcpu[2]}" "${hostcpu[1]}")" "$(ratio "${hostcpu[4]}" "${hostcpu[1]}")" "(same runs)"
printf '%-44s %10s %10s %10s %8s %8s  %s\n' "guest -smp 4, single-threaded TCG (K=$pairs)" "$s1" "$s2" "$s4" "$(ratio "$s2" "$s1")" "$(ratio "$s4" "$s1")" "load $sload"
printf '%-44s %10s %10s %10s %8s %8s  %s\n' "guest -smp 4, multi-threaded TCG (K=$((pairs / 10)))" "$m1" "$m2" "$m4" "$(ratio "$m2" "$m1")" "$(ratio "$m4" "$m1")" "load $mload"
echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
