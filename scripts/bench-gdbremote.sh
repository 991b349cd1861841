#!/usr/bin/env bash
# Reads 64 MiB (SIZE_MIB) from a halted QEMU guest three ways, in one run, and prints MiB/s and ratios:
#   1. gdb's `dump binary memory` (gdb -batch, `target remote`),
#   2. GDBRemote one request at a time (serial),
#   3. GDBRemote pipelined (DEPTH requests in flight).
#
# What is read: guest-PHYSICAL memory [0, SIZE) of a 256 MiB guest started with -S and no
# kernel, in QEMU's physical mode (`Qqemu.PhyMemMode:1`) for all three readers (gdb sends it
# with `maint packet`), so all three read the same bytes and the script checks that they did
# (sha256). Physical mode is used because the range is then RAM whatever the CPU's mode is.
#
# Each way runs REPEAT times (default 3) against the same guest; the script prints every run
# and the median, because this machine is shared and single runs are noisy.
# gdb's time is its whole process minus the median time of a gdb that connects and detaches
# without reading (start-up and connection), so it measures the dump alone.
#
# Usage: scripts/bench-gdbremote.sh            (env: SIZE_MIB=64 MEM=256M DEPTH=128 REPEAT=3)
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-64}
MEM=${MEM:-256M}
DEPTH=${DEPTH:-128}
REPEAT=${REPEAT:-3}
SIZE=$((SIZE_MIB * 1024 * 1024))

cd "$(dirname "$0")/.."
for tool in qemu-system-x86_64 gdb ss sha256sum; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

echo "building gdbremote-bench (release)…" >&2
swift build -c release --product gdbremote-bench >&2
BENCH="$(swift build -c release --show-bin-path)/gdbremote-bench"

TMP=$(mktemp -d /tmp/bench-gdbremote.XXXXXX)
QEMU_PID=""
cleanup() {
    if [[ -n "$QEMU_PID" ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill -TERM "$QEMU_PID" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$QEMU_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# A free port: one no socket listens on (checked with ss, never by connecting).
while :; do
    PORT=$((20000 + RANDOM % 40000))
    ss -ltnH | awk '{print $4}' | grep -q ":$PORT\$" || break
done

qemu-system-x86_64 -nodefaults -no-user-config -S -display none -m "$MEM" \
    -gdb "tcp:127.0.0.1:$PORT" -pidfile "$TMP/qemu.pid" >"$TMP/qemu.log" 2>&1 &
for _ in $(seq 100); do
    ss -ltnH "sport = :$PORT" | grep -q . && break
    sleep 0.1
done
ss -ltnH "sport = :$PORT" | grep -q . || { echo "bench: QEMU did not listen:" >&2; cat "$TMP/qemu.log" >&2; exit 1; }
QEMU_PID=$(cat "$TMP/qemu.pid")

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

gdb_run() { # $1 = extra -ex commands (may be empty)
    gdb -nx -batch -ex 'set pagination off' -ex 'set confirm off' \
        -ex "target remote 127.0.0.1:$PORT" -ex 'maint packet Qqemu.PhyMemMode:1' \
        "$@" -ex 'maint packet Qqemu.PhyMemMode:0' -ex 'disconnect' >"$TMP/gdb.log" 2>&1
}

# Reference (not one of the three ways): the plain Python reader the issue quotes (2048-byte
# `m` reads, 64 in flight, binascii.unhexlify), run against the same guest at the same time,
# so the client can be compared with it on this machine's load rather than another day's.
python_reference() {
    python3 - "$PORT" "$SIZE" <<'PY'
import binascii, socket, sys, time
port, size, depth, chunk = int(sys.argv[1]), int(sys.argv[2]), 64, 2048
s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def pkt(p): p = p.encode(); return b"$" + p + b"#%02x" % (sum(p) & 255)
def reply(buf):
    while True:
        i = buf.find(b"$"); j = buf.find(b"#", i)
        if i >= 0 and j >= 0 and j + 3 <= len(buf): return buf[i+1:j], buf[j+3:]
        buf += s.recv(1 << 20)
s.sendall(pkt("Qqemu.PhyMemMode:1")); _, buf = reply(b"")
n = size // chunk; sent = got = 0; out = bytearray(); t = time.time()
while got < n:
    batch = b""
    while sent < n and sent - got < depth: batch += pkt("m%x,%x" % (sent * chunk, chunk)); sent += 1
    if batch: s.sendall(batch)
    buf += s.recv(1 << 20)
    while True:
        i = buf.find(b"$"); j = buf.find(b"#", i)
        if i < 0 or j < 0 or j + 3 > len(buf): break
        out += binascii.unhexlify(buf[i+1:j]); buf = buf[j+3:]; got += 1
print("%.1f" % (size / 1048576 / (time.time() - t)))
s.sendall(pkt("Qqemu.PhyMemMode:0")); reply(buf); s.close()
PY
}

echo "guest: $MEM, halted; reading $SIZE_MIB MiB of physical memory from 0; depth $DEPTH; $REPEAT runs each" >&2
: >"$TMP/serial"; : >"$TMP/pipelined"; : >"$TMP/gdb"; : >"$TMP/gdb0"; : >"$TMP/python"
for run in $(seq "$REPEAT"); do
    "$BENCH" "127.0.0.1:$PORT" "$SIZE" "$DEPTH" "$TMP/client.bin" >"$TMP/client.out"
    grep -E '^serial_mib_s=' "$TMP/client.out" | cut -d= -f2 >>"$TMP/serial"
    grep -E '^pipelined_mib_s=' "$TMP/client.out" | cut -d= -f2 >>"$TMP/pipelined"
    grep -q 'serial_equals_pipelined=true' "$TMP/client.out" || { echo "bench: serial and pipelined reads differ" >&2; exit 1; }

    t0=$(now); gdb_run; t1=$(now)
    echo "$t1 - $t0" | bc -l >>"$TMP/gdb0"
    t0=$(now); gdb_run -ex "dump binary memory $TMP/gdb.bin 0 $SIZE"; t1=$(now)
    echo "$t1 - $t0" | bc -l >>"$TMP/gdb"
    [[ $(stat -c %s "$TMP/gdb.bin") -eq $SIZE ]] || { echo "bench: gdb dump failed:" >&2; cat "$TMP/gdb.log" >&2; exit 1; }
    a=$(sha256sum <"$TMP/gdb.bin"); b=$(sha256sum <"$TMP/client.bin")
    [[ "$a" == "$b" ]] || { echo "bench: gdb and GDBRemote read different bytes" >&2; exit 1; }
    if command -v python3 >/dev/null; then python_reference >>"$TMP/python"; fi
    echo "run $run: serial $(tail -1 "$TMP/serial") MiB/s, pipelined $(tail -1 "$TMP/pipelined") MiB/s," \
         "gdb $(tail -1 "$TMP/gdb") s (connect-only $(tail -1 "$TMP/gdb0") s)," \
         "python reference $(tail -1 "$TMP/python" 2>/dev/null) MiB/s" >&2
done

GDB0=$(median <"$TMP/gdb0")
GDB_RATE=$(awk -v s="$SIZE_MIB" -v b="$GDB0" '{t=$1-b; if (t<=0) t=$1; printf "%.1f\n", s/t}' "$TMP/gdb" | median)
SERIAL=$(median <"$TMP/serial")
PIPELINED=$(median <"$TMP/pipelined")

echo
echo "$SIZE_MIB MiB read from a halted QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}') guest (median of $REPEAT runs; all three read identical bytes)"
printf '  %-34s %8.1f MiB/s\n' "gdb dump binary memory" "$GDB_RATE"
printf '  %-34s %8.1f MiB/s\n' "GDBRemote serial (1 in flight)" "$SERIAL"
printf '  %-34s %8.1f MiB/s\n' "GDBRemote pipelined ($DEPTH in flight)" "$PIPELINED"
awk -v g="$GDB_RATE" -v s="$SERIAL" -v p="$PIPELINED" 'BEGIN {
    printf "  ratios: pipelined/gdb %.1fx, serial/gdb %.1fx, pipelined/serial %.1fx\n", p/g, s/g, p/s }'
if [[ -s "$TMP/python" ]]; then
    PY=$(median <"$TMP/python")
    printf '  %-34s %8.1f MiB/s  (pipelined/python %.2fx)\n' "reference: python, 64 in flight" "$PY" \
        "$(echo "$PIPELINED / $PY" | bc -l)"
fi
