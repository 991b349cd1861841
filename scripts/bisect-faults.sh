#!/usr/bin/env bash
# For every fault kind of the kernel's fault=KIND@SEQ: boot once (kmemscope boot) to read the
# sequence the kernel's fault line prints, then run `kmemscope bisect` on the same command line
# and check it lands exactly on that sequence. A fault that later traffic heals (the end of the
# run verifies clean: alloc-bitmap-flip, pageblock-tag) is bisected again with --hi FAULT+20,
# as a user who saw it fail there (watch) would. Prints one line per kind (boots, seconds) and
# exits 1 if any kind missed.   scripts/bisect-faults.sh [MEMORY] [WORKLOAD] [FAULT-SEQ] [KIND...]
# SMP=N boots every guest with N CPUs (kmemscope boot/bisect --smp N): the workload takes turns
# on every CPU, so the fault can land on any CPU's operation; e.g. SMP=4 scripts/bisect-faults.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build --show-bin-path)/kmemscope"
mem=${1:-128M}
workload=${2:-seed=3 ops=3000 phases=2}
at=${3:-2000}
smp=${SMP:-1}
shift 3 2>/dev/null || shift $#
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(double-free broken-link list-cycle parity-flip alloc-bitmap-flip wrong-order counter-drift
                             lost-block overlap refcount pageblock-tag slab-freelist use-after-free)
tmp=$(mktemp -d /tmp/kmemscope-bisect-faults.XXXXXX)
trap '[ -f "$tmp/run/qemu.pid" ] && kill "$(cat "$tmp/run/qemu.pid")" 2>/dev/null; rm -rf "$tmp"' EXIT
missed=0
for kind in "${kinds[@]}"; do
    append="$workload fault=$kind@$at"
    rm -rf "$tmp/run"
    "$bin" boot --smp "$smp" --memory "$mem" --append "$append" --run-directory "$tmp/run" --wait done >/dev/null 2>&1 || true
    kill "$(cat "$tmp/run/qemu.pid")" 2>/dev/null || true
    cpu=$(grep -a -m1 "^kmem: cpus " "$tmp/run/serial.txt" | tr -d '\r' || true)
    injected=$(grep -a -m1 "^kmem: fault: injected $kind" "$tmp/run/serial.txt" | tr -d '\r' || true)
    bug=$(grep -a -m1 "^kmem: BUG:" "$tmp/run/serial.txt" | tr -d '\r' || true)
    if [ -z "$injected" ]; then echo "$kind: no fault line (the kernel found no target)"; missed=1; continue; fi
    seq=${injected##* seq }
    healed=
    set +e
    out=$("$bin" bisect --smp "$smp" --memory "$mem" --append "$append" 2>&1)
    status=$?
    if [ "$status" = 0 ]; then
        healed=" (healed before the end of the run: with --hi $((seq + 20)))"
        out=$("$bin" bisect --smp "$smp" --memory "$mem" --append "$append" --hi $((seq + 20)) 2>&1)
        status=$?
    fi
    set -e
    found=$(sed -n 's/^bisect: verify fails first at seq \([0-9]*\), .*(\([0-9]*\) boots*, \([0-9.]*\) s)$/\1 \2 \3/p' <<<"$out")
    read -r got boots seconds <<<"${found:-- - -}"
    if [ "$status" = 1 ] && [ "$got" = "$seq" ]; then
        echo "$kind: ok${cpu:+ (${cpu#kmem: })}, fault at seq $seq, bisect found seq $got in $boots boots, $seconds s$healed${bug:+ (the kernel later halted: $bug)}"
    else
        echo "$kind: MISSED, fault at seq $seq, bisect exit $status, found '${got}'${bug:+ (the kernel halted: $bug)}"
        grep -E '^(bisect|seq [0-9]+:)' <<<"$out" | tail -4 | sed 's/^/    /'
        missed=1
    fi
done
exit $missed
