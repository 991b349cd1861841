#!/usr/bin/env bash
# kmemscope beside crash 8 and drgn on one dump of a Debian 6.1 guest (issue 18): boots the guest
# (scripts/linux-guest.sh), dumps it with QEMU's `dump-guest-memory -p` (an ELF core with
# VMCOREINFO; drgn 0.0.22 reads only paging dumps), stops it, then runs on that one file
#   crash:     kmem -f, kmem -z, kmem -s, kmem -i   (each its own `crash -s` run, as a user types one)
#   drgn:      scripts/compare-drgn.py buddyinfo | zoneinfo | slabinfo
#   kmemscope: buddyinfo, zoneinfo, slabinfo, verify --vmcore (on that file, and on a -z kdump file of the same moment)
# and prints where their numbers agree or differ (buddyinfo per zone and order, free pages per
# zone, each slab cache's allocated and total objects) and each run's wall time and peak RSS
# (/usr/bin/time -f "%e s %M KB"). crash and drgn need Debian's debug vmlinux (run
# scripts/debian-vmlinux.sh once: ~860 MB download, cached); kmemscope needs only the guest's kallsyms.
# Not part of `make test`. Needs: crash, python3-drgn, gdb, time (apt-get install crash python3-drgn gdb time).
#
#   scripts/compare-crash-drgn.sh [RUNS]     RUNS timed runs of each (default 3; the table gives the median)
#   KMEMSCOPE=path/to/kmemscope              a binary other than .build/release/kmemscope (built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
runs=${1:-3}
for c in crash drgn gdb /usr/bin/time; do command -v "$c" >/dev/null || { echo "compare: $c not found (apt-get install crash python3-drgn gdb time)" >&2; exit 2; }; done
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kmemscope/linux-dbg
vmlinux=$(ls "$cache"/usr/lib/debug/boot/vmlinux-6.1.* 2>/dev/null | head -n1 || true)
[ -s "$vmlinux" ] || { echo "compare: no debug vmlinux in $cache: run scripts/debian-vmlinux.sh first" >&2; exit 2; }
kms=${KMEMSCOPE:-.build/release/kmemscope}
if [ ! -x "$kms" ]; then echo "compare: building $kms" >&2; swift build -c release --product kmemscope >/dev/null; fi

run=$(mktemp -d /tmp/kmemscope-compare-XXXXXX)
trap 'scripts/linux-guest.sh stop "$run" >/dev/null 2>&1 || true; rm -rf "$run"' EXIT
scripts/linux-guest.sh boot "$run" >/dev/null
scripts/linux-guest.sh wait "$run" >/dev/null
core=$run/guest.core
kdump=$run/guest.kdump
gdb -batch -ex "target remote $run/gdb.sock" -ex "monitor dump-guest-memory -p $core" -ex "monitor dump-guest-memory -z $kdump" >/dev/null 2>&1
scripts/linux-guest.sh stop "$run" >/dev/null
echo "dump: $core ($(du -m "$core" | cut -f1) MB; the same moment kdump-compressed: $(du -m "$kdump" | cut -f1) MB, $(sed -n 's/^Linux version \([^ ]*\).*/\1/p' "$run/version"), 512 MB guest); vmlinux $(du -m "$vmlinux" | cut -f1) MB; kallsyms $(wc -c < "$run/kallsyms") bytes"

# timed NAME COMMAND...: RUNS runs; the last run's output in $run/NAME.out, each run's "s KB" in $run/NAME.time
timed() {
    local name=$1; shift
    : > "$run/$name.time"
    for ((i = 0; i < runs; i++)); do
        /usr/bin/time -f "%e %M" -o "$run/$name.t" "$@" > "$run/$name.out" 2> "$run/$name.err" || true
        tail -n1 "$run/$name.t" >> "$run/$name.time"
    done
}
for cmd in "kmem -f" "kmem -z" "kmem -s" "kmem -i"; do
    printf '%s\nquit\n' "$cmd" > "$run/crash.in"
    timed "crash-${cmd#kmem -}" crash -s -i "$run/crash.in" "$vmlinux" "$core"
done
for view in buddyinfo zoneinfo slabinfo; do
    timed "drgn-$view" drgn -q -c "$core" -s "$vmlinux" scripts/compare-drgn.py "$view"
done
for view in buddyinfo zoneinfo slabinfo verify; do
    timed "kmemscope-$view" "$kms" "$view" --kernel linux --symbols "$run/kallsyms" --vmcore "$core"
    timed "kdump-$view" "$kms" "$view" --kernel linux --symbols "$run/kallsyms" --vmcore "$kdump"
    cmp -s "$run/kmemscope-$view.out" "$run/kdump-$view.out" || echo "compare: kmemscope $view differs between the ELF core and the kdump file" >&2
done

python3 - "$run" <<'PY'
import re, statistics, sys
run = sys.argv[1]
def read(name): return open(f"{run}/{name}.out").read()

# buddyinfo: zone -> [blocks per order]
def buddy_lines(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"Node 0, zone\s+(\S+)\s+(.*)", line)
        if m: out[m.group(1)] = [int(x) for x in m.group(2).split()]
    return out
def crash_buddy(text):
    out, zone = {}, None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("ZONE  NAME") and i + 1 < len(lines):
            f = lines[i + 1].split()
            zone = f[1] if len(f) > 1 else None
        m = re.match(r"\s*(\d+)\s+\d+k\s+[0-9a-f]+\s+(\d+)\s+\d+\s*$", line)
        if m and zone:
            order, blocks = int(m.group(1)), int(m.group(2))
            row = out.setdefault(zone, [0] * 11)
            while len(row) <= order: row.append(0)
            row[order] += blocks
    return out
# free pages per zone
def kms_free(text):
    out, zone = {}, None
    for line in text.splitlines():
        m = re.match(r"Node 0, zone\s+(\S+)", line)
        if m: zone = m.group(1)
        m = re.match(r"\s+pages free\s+(\d+)", line)
        if m and zone: out[zone] = int(m.group(1))
    return out
def drgn_free(text):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"zone (\S+) free (-?\d+)", text)}
def crash_free(text):
    out, zone = {}, None
    for line in text.splitlines():
        m = re.search(r'NAME: "(\S+)"', line)
        if m: zone = m.group(1)
        m = re.match(r"\s*NR_FREE_PAGES: (\d+)", line)
        if m and zone: out[zone] = int(m.group(1))
    return out
# slab caches: name -> (active, total)
def kms_slabs(text):
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) > 3 and not line.startswith(("slabinfo", "#")) and f[1].isdigit() and f[2].isdigit():
            out[f[0]] = (int(f[1]), int(f[2]))
    return out
def drgn_slabs(text):
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 4 and f[1].lstrip("-").isdigit(): out[f[0]] = (int(f[1]), int(f[2]))
    return out
def crash_slabs(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"[0-9a-f]{16}\s+\d+\s+(\d+)\s+(\d+)\s+\d+\s+\d+k\s+(\S+)", line)
        if m: out[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return out

def populated(d): return {k: v for k, v in d.items() if (sum(v) if isinstance(v, list) else v) or k in ("DMA", "DMA32")}
kb, db, cb = buddy_lines(read("kmemscope-buddyinfo")), buddy_lines(read("drgn-buddyinfo")), crash_buddy(read("crash-f"))
cb = {z: cb[z] for z in kb if z in cb}
print("\n## Do the numbers agree?\n")
print("| view | kmemscope vs drgn | kmemscope vs crash |")
print("|---|---|---|")
def cmp(a, b, what):
    keys = sorted(set(a) | set(b))
    same = [k for k in keys if a.get(k) == b.get(k)]
    diff = [k for k in keys if a.get(k) != b.get(k)]
    s = f"{len(same)} of {len(keys)} {what} equal"
    if diff: s += "; differ: " + ", ".join(f"{k} {a.get(k)} vs {b.get(k)}" for k in diff[:6]) + (" …" if len(diff) > 6 else "")
    return s
print(f"| buddyinfo (free blocks per zone and order; crash: kmem -f) | {cmp(kb, db, 'zones')} | {cmp(kb, cb, 'zones')} |")
kf, df, cf = kms_free(read("kmemscope-zoneinfo")), drgn_free(read("drgn-zoneinfo")), crash_free(read("crash-z"))
# crash prints no VM_STAT for an empty zone: those are compared where crash prints them
print(f"| zoneinfo: free pages per zone (crash: kmem -z NR_FREE_PAGES, populated zones) | {cmp(kf, df, 'zones')} | {cmp({z: kf.get(z) for z in cf}, cf, 'zones')} |")
m = re.search(r"^\s*FREE\s+(\d+)", read("crash-i"), re.M)
total = sum(kf.values())
print(f"| free pages in all (crash: kmem -i FREE) | — | kmemscope {total}, crash {m.group(1) if m else '?'}: {'equal' if m and int(m.group(1)) == total else 'DIFFER'} |")
ks, ds, cs = kms_slabs(read("kmemscope-slabinfo")), drgn_slabs(read("drgn-slabinfo")), crash_slabs(read("crash-s"))
print(f"| slabinfo: active and total objects per cache | {cmp(ks, ds, 'caches')} | — |")
total = lambda d: {k: v[1] for k, v in d.items()}
active = lambda d: {k: v[0] for k, v in d.items()}
print(f"| slabinfo: total objects per cache (crash: kmem -s TOTAL) | {cmp(total(ks), total(ds), 'caches')} | {cmp(total(ks), total(cs), 'caches')} |")
print(f"| slabinfo: active objects per cache (crash: kmem -s ALLOCATED) | {cmp(active(ks), active(ds), 'caches')} | {cmp(active(ks), active(cs), 'caches')} |")

def cell(name):
    rows = [l.split() for l in open(f"{run}/{name}.time") if l.strip()]
    secs = statistics.median(float(r[0]) for r in rows)
    kb = statistics.median(int(r[1]) for r in rows)
    return f"{secs:.2f} s, {kb / 1024:.0f} MB"
print("\n## Wall time and peak RSS (median of the runs)\n")
print("| view | kmemscope (ELF core) | kmemscope (kdump -z) | drgn (ELF core) | crash (ELF core) |")
print("|---|---|---|---|---|")
print(f"| buddyinfo / kmem -f | {cell('kmemscope-buddyinfo')} | {cell('kdump-buddyinfo')} | {cell('drgn-buddyinfo')} | {cell('crash-f')} |")
print(f"| zoneinfo / kmem -z | {cell('kmemscope-zoneinfo')} | {cell('kdump-zoneinfo')} | {cell('drgn-zoneinfo')} | {cell('crash-z')} |")
print(f"| slabinfo / kmem -s | {cell('kmemscope-slabinfo')} | {cell('kdump-slabinfo')} | {cell('drgn-slabinfo')} | {cell('crash-s')} |")
print(f"| verify (16 checks) / kmem -i (totals): not the same work | {cell('kmemscope-verify')} | {cell('kdump-verify')} | — | {cell('crash-i')} |")
PY
