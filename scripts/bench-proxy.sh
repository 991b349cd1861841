#!/usr/bin/env bash
# gdb's latency through `kmemscope proxy` against gdb straight on QEMU's gdbstub (issue 21's
# goal: at most 10 % slower). One guest (256M, the workload finished, halted), gdb 13 in
# batch mode: `x/1000gx` of the kernel's data (N times) and `stepi` (N times, in a guest
# stopped at a breakpoint in the middle of the workload, so there is code to step).
# Prints a table: median ms per command direct, through the proxy (plain and with
# --cache-reads: 1 KiB read-ahead while stopped), and the ratios.
#   scripts/bench-proxy.sh [ROUNDS]      (default 5 rounds of 20 commands each)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
kms="$here/.build/debug/kmemscope"
[[ -x "$kms" ]] || { echo "bench-proxy: build first (swift build)" >&2; exit 2; }
command -v gdb >/dev/null || { echo "bench-proxy: gdb is needed" >&2; exit 2; }
dir=$(mktemp -d /tmp/kms-bench-proxy.XXXXXX)
qemu_pid=""; proxy_pid=""
cleanup() {
    [[ -n "$proxy_pid" ]] && kill "$proxy_pid" 2>/dev/null || true
    [[ -n "$qemu_pid" ]] && kill "$qemu_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
"$kms" boot --memory 256M --append "seed=1 ops=400000 phases=8" --stopped --run-directory "$dir/run" >/dev/null
qemu_pid=$(cat "$dir/run/qemu.pid")
stub="$dir/run/gdb.sock"

# Runs the timing script in gdb against $1 (a socket path); prints "x_ms step_ms".
measure() {
    cat > "$dir/t.gdb" <<GDB
set pagination off
set confirm off
target remote $1
python
import gdb, time, statistics
addr = int(gdb.parse_and_eval("(long)&kmem_info"))
xs, ss = [], []
for r in range($rounds):
    t = time.perf_counter()
    for i in range(20):
        gdb.execute("x/1000gx %d" % addr, to_string=True)
    xs.append((time.perf_counter() - t) / 20 * 1000)
    t = time.perf_counter()
    for i in range(20):
        gdb.execute("stepi", to_string=True)
    ss.append((time.perf_counter() - t) / 20 * 1000)
print("RESULT %.3f %.3f" % (statistics.median(xs), statistics.median(ss)))
end
detach
GDB
    gdb -q -nx -batch -x "$dir/t.gdb" "$here/kernel/build/kernel.elf" > "$dir/t.out" 2>&1 || true
    awk '/^RESULT/ {print $2, $3}' "$dir/t.out"
    grep -q "^RESULT" "$dir/t.out" || { echo "bench-proxy: gdb failed:" >&2; tail -5 "$dir/t.out" >&2; }
}

# Stop at the first checkpoint (code to step) and leave the guest stopped there.
cat > "$dir/s.gdb" <<GDB
set confirm off
target remote $stub
break kmem_checkpoint
continue
delete
disconnect
GDB
gdb -q -nx -batch -x "$dir/s.gdb" "$here/kernel/build/kernel.elf" > "$dir/s.out" 2>&1 || { cat "$dir/s.out" >&2; exit 2; }

read -r dx ds < <(measure "$stub")
through() {   # measure through a proxy started with "$@"
    "$kms" proxy --quiet --listen "unix:$dir/proxy.sock" --target "unix:$stub" "$@" 2>"$dir/proxy.log" &
    proxy_pid=$!
    for _ in $(seq 100); do [[ -S "$dir/proxy.sock" ]] && break; sleep 0.05; done
    measure "$dir/proxy.sock"
    kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=""
}
read -r px ps < <(through)
read -r cx cs < <(through --cache-reads)
printf '%-10s %10s %10s %7s %14s %7s\n' "gdb" "direct ms" "proxy ms" "ratio" "--cache-reads" "ratio"
printf '%-10s %10.3f %10.3f %7.2f %14.3f %7.2f\n' "x/1000gx" "$dx" "$px" "$(echo "$px / $dx" | bc -l)" "$cx" "$(echo "$cx / $dx" | bc -l)"
printf '%-10s %10.3f %10.3f %7.2f %14.3f %7.2f\n' "stepi" "$ds" "$ps" "$(echo "$ps / $ds" | bc -l)" "$cs" "$(echo "$cs / $ds" | bc -l)"
