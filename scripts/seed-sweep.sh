#!/usr/bin/env bash
# No false positives (issue 10): clean workloads over many seeds must verify clean, with the
# whole operation log replayed through the reference model.
#   scripts/seed-sweep.sh [SEEDS] [FIRST] [JOBS]   (default 200 seeds from 1, 2 guests at a time)
# Seed i runs at 128M or 1G and with poisoning off or on, in turn (so each of the four
# combinations gets a quarter of the seeds), `ops=4000 phases=2`; the sweep adds one run at 6G
# when SEEDS ≥ 100. Each guest runs to `kmem: done`, then `kmemscope verify --replay` attaches.
# Prints one line per run that is not clean and a summary; exit 0 only when every run
# passed (verify exit status 0, "all passed", no divergence).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
seeds=${1:-200}; first=${2:-1}; jobs=${3:-2}
for v in "$seeds" "$first" "$jobs"; do [[ $v =~ ^[0-9]+$ ]] || { echo "usage: scripts/seed-sweep.sh [SEEDS] [FIRST] [JOBS]" >&2; exit 2; }; done
ops=${SWEEP_OPS:-4000}

# SWEEP_TOOL=PATH uses that kmemscope as built (the test does: no swift build inside swift test).
[[ -f kernel/build/kernel.elf ]] || make kernel >/dev/null
[[ -n ${SWEEP_TOOL:-} ]] || swift build --product kmemscope >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Private copies: a rebuild of the kernel or the tool during a long sweep must not mix builds.
cp kernel/build/kernel.elf "$work/kernel.elf"
cp "${SWEEP_TOOL:-.build/debug/kmemscope}" "$work/kmemscope"
tool=$work/kmemscope
elf=$work/kernel.elf

# run SEED MEMORY POISON: prints "ok SEED MEM POISON SECONDS" or "FAIL …" with the reason.
run() {
    local seed=$1 mem=$2 poison=$3 d="$work/$1-$2"
    mkdir -p "$d"
    local t0=$SECONDS
    qemu-system-x86_64 -kernel "$elf" -m "$mem" -append "seed=$seed ops=$ops phases=2 poison=$poison" \
        -display none -no-reboot -accel tcg -serial "file:$d/serial.txt" \
        -chardev "socket,id=g,path=$d/gdb.sock,server=on,wait=off" -gdb chardev:g \
        -pidfile "$d/qemu.pid" -daemonize
    local pid; pid=$(cat "$d/qemu.pid")
    local done=0
    for _ in $(seq 1800); do
        grep -q "kmem: done" "$d/serial.txt" 2>/dev/null && { done=1; break; }
        grep -q "kmem: BUG" "$d/serial.txt" 2>/dev/null && break
        sleep 0.1
    done
    local status=0
    if [[ $done == 1 ]]; then
        "$tool" verify --replay --target "unix:$d/gdb.sock" --elf "$elf" >"$d/out.txt" 2>"$d/err.txt" || status=$?
    fi
    kill "$pid" 2>/dev/null; sleep 0.3; kill -9 "$pid" 2>/dev/null || true
    if [[ $done != 1 ]]; then
        echo "FAIL seed=$seed -m $mem poison=$poison: no 'kmem: done': $(grep -m1 'kmem: BUG' "$d/serial.txt" || tail -1 "$d/serial.txt")"
    elif [[ $status != 0 ]] || ! grep -q "all passed" "$d/out.txt"; then
        echo "FAIL seed=$seed -m $mem poison=$poison: verify exit $status: $(head -3 "$d/out.txt" "$d/err.txt" | tr '\n' ' ')"
    else
        echo "ok seed=$seed -m $mem poison=$poison $((SECONDS - t0))s"
    fi
    rm -rf "$d"
}
export -f run
export tool elf work ops

start=$SECONDS
{
    for ((i = 0; i < seeds; i++)); do
        seed=$((first + i))
        mem=$([[ $((i % 2)) == 0 ]] && echo 128M || echo 1G)
        poison=$(((i / 2) % 2))
        echo "$seed $mem $poison"
    done
    if [[ $seeds -ge 100 ]]; then echo "$first 6G 0"; fi
} | xargs -P "$jobs" -L 1 bash -c 'run "$@"' _ > "$work/results.txt"

grep -v '^ok' "$work/results.txt" || true
total=$(wc -l < "$work/results.txt")
passed=$(grep -c '^ok' "$work/results.txt" || true)
for combo in "128M poison=0" "128M poison=1" "1G poison=0" "1G poison=1" "6G poison=0"; do
    n=$(grep -c -- "-m ${combo% *} ${combo#* }" "$work/results.txt" || true)
    [[ $n -eq 0 ]] || echo "seed-sweep: -m $combo: $n runs, $(grep -- "-m ${combo% *} ${combo#* }" "$work/results.txt" | grep -c '^ok' || true) clean"
done
echo "seed-sweep: $passed of $total runs clean (seeds $first…$((first + seeds - 1)), ops=$ops), $((SECONDS - start)) s"
[[ $passed == "$total" ]]
