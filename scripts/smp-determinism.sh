#!/usr/bin/env bash
# Measures whether QEMU runs an SMP guest the same way twice (issue 19, kernel/README.md
# "Determinism on several CPUs"): boots the kernel with `locktest=K` N times per QEMU setting
# and prints how many distinct lock-order digests each setting gave (1 = repeatable).
#   scripts/smp-determinism.sh [CPUS] [K] [BOOTS]      (defaults 4 2000 3)
# A boot that prints no lock-test line within 110 s counts as "timeout".
# WORKLOAD="seed=5 ops=20000 phases=4" measures the workload's turns instead (kernel/README.md
# "Workload"): the digest is the MD5 of the serial output from `kmem: workload seed` to
# `kmem: done` (the checkpoints' buddyinfo and slabinfo, each CPU's counts, the final state).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
elf=${KERNEL_ELF:-$here/kernel/build/kernel.elf}
cpus=${1:-4}; k=${2:-2000}; boots=${3:-3}
[[ -f $elf ]] || { echo "smp-determinism: no kernel at $elf (make kernel)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "smp-determinism: qemu-system-x86_64 is missing" >&2; exit 2; }
workload=${WORKLOAD:-}
boot() {
    local out; out=$(mktemp)
    local append="locktest=$k" marker="lock test" mem=64M
    [[ -n $workload ]] && { append=$workload; marker="kmem: done"; mem=256M; }
    timeout 115 qemu-system-x86_64 -kernel "$elf" -append "$append" -m "$mem" -smp "$cpus" \
        -display none -no-reboot -monitor none -serial "file:$out" "$@" >/dev/null 2>&1 &
    local pid=$! i
    for i in $(seq 1 1100); do grep -q "$marker" "$out" 2>/dev/null && break; sleep 0.1; done
    sleep 0.2
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    local line; line=$(grep "$marker" "$out")
    if [[ -z $line ]]; then echo timeout
    elif [[ -n $workload ]]; then sed -n '/^kmem: workload seed/,/^kmem: done/p' "$out" | md5sum | cut -c1-12
    else echo "${line##*order digest }"; fi
    rm -f "$out"
}
for setting in "-accel tcg" "-accel tcg,thread=single" "-accel tcg,thread=single -icount shift=0,sleep=off"; do
    digests=()
    for _ in $(seq 1 "$boots"); do
        # shellcheck disable=SC2086
        digests+=("$(boot $setting)")
    done
    distinct=$(printf '%s\n' "${digests[@]}" | sort -u | wc -l)
    printf '%-55s -smp %s %s: %s boots, %s distinct: %s\n' "$setting" "$cpus" "${workload:-K=$k}" "$boots" "$distinct" "${digests[*]}"
done
