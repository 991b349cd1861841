#!/usr/bin/env bash
# gdb's latency through `kmemscope proxy` against gdb straight on QEMU's gdbstub (issue 21's
# goal: at most 10 % slower). One guest (256M, halted in the middle of the workload), one gdb 13
# whose Python script takes SAMPLES samples; each sample connects gdb three ways one after the
# other (order rotated): direct to QEMU, through a fresh proxy, through a fresh proxy with
# --cache-reads (1 KiB read-ahead while stopped), and times 20 `x/1000gx` of the kernel's data
# and 20 `stepi` each way. The ratios are taken within a sample (neighbours in time, so the
# host's load moves them less) and their medians printed, with the load average.
#   scripts/bench-proxy.sh [SAMPLES]      (default 9)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
samples=${1:-9}
kms="$here/.build/debug/kmemscope"
[[ -x "$kms" ]] || { echo "bench-proxy: build first (swift build)" >&2; exit 2; }
command -v gdb >/dev/null || { echo "bench-proxy: gdb is needed" >&2; exit 2; }
dir=$(mktemp -d /tmp/kms-bench-proxy.XXXXXX)
qemu_pid=""
cleanup() {
    [[ -n "$qemu_pid" ]] && kill "$qemu_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
# 1000 phases: a checkpoint every 400 operations, and plenty of workload code to step through.
"$kms" boot --memory 256M --append "seed=1 ops=400000 phases=1000" --stopped --run-directory "$dir/run" >/dev/null
qemu_pid=$(cat "$dir/run/qemu.pid")
stub="$dir/run/gdb.sock"

cat > "$dir/t.gdb" <<GDB
set pagination off
set confirm off
target remote $stub
break kmem_checkpoint
continue
delete
disconnect
python
import gdb, os, statistics, subprocess, time
def load(): return open("/proc/loadavg").read().split()[0]
def proxy(extra):
    sock = "$dir/proxy.sock"
    p = subprocess.Popen(["$kms", "proxy", "--quiet", "--listen", "unix:" + sock, "--target", "unix:$stub"] + extra,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(sock): break
        time.sleep(0.025)
    return p, sock
def timed(sock):
    gdb.execute("target remote " + sock, to_string=True)
    addr = int(gdb.parse_and_eval("(long)&kmem_info"))
    t = time.perf_counter()
    for i in range(20): gdb.execute("x/1000gx %d" % addr, to_string=True)
    x = (time.perf_counter() - t) / 20 * 1000
    t = time.perf_counter()
    for i in range(20): gdb.execute("stepi", to_string=True)
    s = (time.perf_counter() - t) / 20 * 1000
    gdb.execute("disconnect", to_string=True)
    return x, s
modes = [("direct", None), ("proxy", []), ("cache", ["--cache-reads"])]
rows = []
first = load()
for n in range($samples):
    got = {}
    for name, extra in modes[n % 3:] + modes[:n % 3]:
        if extra is None:
            got[name] = timed("$stub")
        else:
            p, sock = proxy(extra)
            got[name] = timed(sock)
            p.terminate(); p.wait(10)
    rows.append(got)
    d, pr, c = got["direct"], got["proxy"], got["cache"]
    print("sample %2d  x/1000gx %7.2f %7.2f %5.2f %7.2f %5.2f   stepi %6.3f %6.3f %5.2f %6.3f %5.2f   load %s" %
          (n + 1, d[0], pr[0], pr[0] / d[0], c[0], c[0] / d[0], d[1], pr[1], pr[1] / d[1], c[1], c[1] / d[1], load()))
med = lambda f: statistics.median(f(r) for r in rows)
print("median     x/1000gx %7.2f %7.2f %5.2f %7.2f %5.2f   stepi %6.3f %6.3f %5.2f %6.3f %5.2f   load %s..%s" % (
    med(lambda r: r["direct"][0]), med(lambda r: r["proxy"][0]), med(lambda r: r["proxy"][0] / r["direct"][0]),
    med(lambda r: r["cache"][0]), med(lambda r: r["cache"][0] / r["direct"][0]),
    med(lambda r: r["direct"][1]), med(lambda r: r["proxy"][1]), med(lambda r: r["proxy"][1] / r["direct"][1]),
    med(lambda r: r["cache"][1]), med(lambda r: r["cache"][1] / r["direct"][1]), first, load()))
end
GDB
echo "ms per command: direct, proxy, ratio, proxy --cache-reads, ratio (each sample one after the other)"
timeout 900 gdb -q -nx -batch -x "$dir/t.gdb" "$here/kernel/build/kernel.elf" > "$dir/t.out" 2>&1 || true
grep -q "^median" "$dir/t.out" || { echo "bench-proxy: gdb failed:" >&2; tail -8 "$dir/t.out" >&2; exit 2; }
grep -E "^(sample|median)" "$dir/t.out"
