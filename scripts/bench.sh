#!/usr/bin/env bash
# One benchmark table for issue 12: guest-memory reads and verify, from 1 GiB to 32 GiB guests.
#
# For each guest size the bundled kernel boots under TCG with its RAM in a sparse
# memory-backend file in /dev/shm (QEMU allocates guest RAM lazily, so a 32G guest costs what
# the kernel touches), runs the workload (seed=1 ops=$OPS phases=4) and halts; then, against
# the same halted guest, in one run:
#   read STUB_MIB MiB   guest-physical [0, STUB_MIB MiB): gdb's `dump binary memory` (gdb -batch,
#                       its connect-only time subtracted), the bare pipelined reader
#                       (gdbremote-bench), and `kmemscope dump --physical` through the stub;
#                       all three must read identical bytes (sha256).
#   read FrameMeta      `kmemscope dump frame-meta` through the stub, the memory file and the QEMU
#                       process (rate of the read itself; identical bytes checked).
#   verify              `kmemscope verify` end to end (whole process: exec, ELF, attach, read,
#                       decode, check, restore) through each source, and `--streaming` through
#                       the file; its --timing line gives the read+decode and check phases and
#                       ns per frame, wall and CPU time (the QEMU process found automatically
#                       from the TCP port). Through the file, verify checks the FrameMeta array
#                       in place in the file's mapping (no copy): its read+decode is the mapping's
#                       page-table set-up.
# Peak RSS is the process's maximum resident set (/usr/bin/time -v). Ratios are to gdb and to
# the bare reader measured in the same run on the same range. Nothing here is a test: no timed
# assertion; the figures go to docs/performance.md.
#
# Then the host figures: the kernel allocator built for the host (scripts/bench-allocator.sh)
# and the reference model's replay (scripts/bench-model.sh).
#
# Usage: scripts/bench.sh        env: SIZES="1G 2G 4G 8G 16G 32G" OPS=20000 STUB_MIB=64 HOST=1
#        (the raw rows are also left in $ROWS_OUT, default /tmp/kmemscope-bench-rows.txt)
#        scripts/bench.sh --quick   (SIZES="1G 4G", STUB_MIB=16, no host figures)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

SIZES=${SIZES:-"1G 2G 4G 8G 16G 32G"}
OPS=${OPS:-20000}
STUB_MIB=${STUB_MIB:-64}
HOST=${HOST:-1}
if [[ "${1:-}" == --quick ]]; then SIZES="1G 4G"; STUB_MIB=16; HOST=0; fi

for tool in qemu-system-x86_64 gdb ss sha256sum /usr/bin/time bc; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (scripts/install-deps.sh)" >&2; exit 2; }
done

echo "bench: building the kernel and the tools (release)…" >&2
make -s kernel >&2
swift build -c release --product kmemscope >&2
swift build -c release --product gdbremote-bench >&2
BIN="$(swift build -c release --show-bin-path)"
KM="$BIN/kmemscope"
BARE="$BIN/gdbremote-bench"
ELF=kernel/build/kernel.elf

TMP=$(mktemp -d /tmp/kmemscope-bench.XXXXXX)
ROWS="$TMP/rows"
: >"$ROWS"
QEMU_PID=""
RAM=""
stop_qemu() {
    if [[ -n "$QEMU_PID" ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill -TERM "$QEMU_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$QEMU_PID" 2>/dev/null || true
    fi
    QEMU_PID=""
    [[ -n "$RAM" ]] && rm -f "$RAM"
    RAM=""
}
trap 'stop_qemu; cp "$ROWS" "${ROWS_OUT:-/tmp/kmemscope-bench-rows.txt}" 2>/dev/null; rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
# row PHASE SIZE VALUE UNIT GDB_RATIO BARE_RATIO RSS_MIB
row() { printf '%s|%s|%s|%s|%s|%s|%s\n' "$@" >>"$ROWS"; }
# Runs a command under /usr/bin/time -v; sets RSS (MiB), WALL (s); stderr kept in $TMP/err.
timed() {
    /usr/bin/time -v -o "$TMP/time" "$@" 2>"$TMP/err" >"$TMP/out"
    RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$TMP/time")
    WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/time")
}
rate_of() { grep -oP '\(\K[0-9]+(?= MiB/s)' "$TMP/err" | tail -1; }

for SIZE in $SIZES; do
    while :; do PORT=$((20000 + RANDOM % 40000)); ss -ltnH | awk '{print $4}' | grep -q ":$PORT\$" || break; done
    RAM="/dev/shm/kmemscope-bench-$$-$SIZE.ram"
    echo "bench: booting a $SIZE guest (memory file $RAM, gdbstub 127.0.0.1:$PORT)…" >&2
    rm -f "$TMP/serial" "$TMP/qemu.pid"
    t0=$(now)
    qemu-system-x86_64 -kernel "$ELF" -m "$SIZE" -append "seed=1 ops=$OPS phases=4" \
        -object "memory-backend-file,id=ram,size=$SIZE,mem-path=$RAM,share=on" -machine memory-backend=ram \
        -serial "file:$TMP/serial" -display none -no-reboot -accel tcg -monitor none \
        -gdb "tcp:127.0.0.1:$PORT" -pidfile "$TMP/qemu.pid" >"$TMP/qemu.log" 2>&1 &
    QEMU_PID=$!
    for _ in $(seq 3000); do grep -q "kmem: done" "$TMP/serial" 2>/dev/null && break; sleep 0.2; done
    grep -q "kmem: done" "$TMP/serial" || { echo "bench: the $SIZE guest did not finish:" >&2; tail -5 "$TMP/serial" "$TMP/qemu.log" >&2; exit 1; }
    BOOT=$(echo "$(now) - $t0" | bc -l)
    QRSS=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$QEMU_PID/status")
    FILE_MIB=$(du -m "$RAM" | cut -f1)
    row "boot+workload (QEMU RSS, RAM file allocated ${FILE_MIB} MiB)" "$SIZE" "$(printf '%.0f' "$(echo "$BOOT * 1000" | bc -l)")" ms "" "" "$QRSS"

    # --- the same physical range through gdb, the bare reader and kmemscope's stub path
    BYTES=$((STUB_MIB * 1048576))
    gdb_run() {
        gdb -nx -batch -ex 'set pagination off' -ex 'set confirm off' -ex "target remote 127.0.0.1:$PORT" \
            -ex 'maint packet Qqemu.PhyMemMode:1' "$@" -ex 'maint packet Qqemu.PhyMemMode:0' -ex disconnect >"$TMP/gdb.log" 2>&1
    }
    t0=$(now); gdb_run; t1=$(now); G0=$(echo "$t1 - $t0" | bc -l)
    t0=$(now); gdb_run -ex "dump binary memory $TMP/gdb.bin 0 $BYTES"; t1=$(now)
    GDB=$(echo "$STUB_MIB / ($t1 - $t0 - $G0)" | bc -l)
    GDBREMOTE_BENCH_PIPELINED_ONLY=1 timed "$BARE" "127.0.0.1:$PORT" "$BYTES" 128 "$TMP/bare.bin"
    BARE_RATE=$(grep -oP '^pipelined_mib_s=\K[0-9.]+' "$TMP/out"); BARE_RSS=$RSS
    timed "$KM" dump --physical 0 "$BYTES" -o "$TMP/km.bin" --force --timing --memory-source stub --target "127.0.0.1:$PORT" --elf "$ELF"
    KM_RATE=$(rate_of)
    [[ "$(sha256sum <"$TMP/gdb.bin")" == "$(sha256sum <"$TMP/bare.bin")" && "$(sha256sum <"$TMP/gdb.bin")" == "$(sha256sum <"$TMP/km.bin")" ]] \
        || { echo "bench: gdb, the bare reader and kmemscope read different bytes" >&2; exit 1; }
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; }
    row "read ${STUB_MIB} MiB phys: gdb dump binary memory" "$SIZE" "$(printf '%.1f' "$GDB")" MiB/s 1.00 "$(ratio "$GDB" "$BARE_RATE")" ""
    row "read ${STUB_MIB} MiB phys: bare pipelined reader" "$SIZE" "$BARE_RATE" MiB/s "$(ratio "$BARE_RATE" "$GDB")" 1.00 "$BARE_RSS"
    row "read ${STUB_MIB} MiB phys: kmemscope, stub" "$SIZE" "$KM_RATE" MiB/s "$(ratio "$KM_RATE" "$GDB")" "$(ratio "$KM_RATE" "$BARE_RATE")" "$RSS"

    # --- the FrameMeta array through each source
    REF=""
    for SRC in stub file process; do
        case $SRC in
            stub) OPTS=(--memory-source stub) ;;
            file) OPTS=(--memory-file "$RAM") ;;
            process) OPTS=(--qemu-pid "$QEMU_PID") ;;
        esac
        timed "$KM" dump frame-meta -o "$TMP/fm-$SRC.bin" --force --timing "${OPTS[@]}" --target "127.0.0.1:$PORT" --elf "$ELF"
        R=$(rate_of)
        FM=$(stat -c %s "$TMP/fm-$SRC.bin")
        H=$(sha256sum <"$TMP/fm-$SRC.bin")
        [[ -z "$REF" ]] && REF=$H
        [[ "$H" == "$REF" ]] || { echo "bench: FrameMeta through $SRC differs from the stub's" >&2; exit 1; }
        row "read FrameMeta ($(mib "$FM") MiB): $SRC" "$SIZE" "$R" MiB/s "$(ratio "$R" "$GDB")" "$(ratio "$R" "$BARE_RATE")" "$RSS"
        rm -f "$TMP/fm-$SRC.bin"
    done

    # --- verify end to end through each source, whole and streamed (--streaming)
    for SRC in process file file-streaming stub; do
        case $SRC in
            stub) OPTS=(--memory-source stub) ;;
            file) OPTS=(--memory-file "$RAM") ;;
            file-streaming) OPTS=(--memory-file "$RAM" --streaming) ;;
            process) OPTS=(--memory-source process) ;;
        esac
        timed "$KM" verify --timing "${OPTS[@]}" --target "127.0.0.1:$PORT" --elf "$ELF" || true
        grep -q "all passed" "$TMP/out" || { echo "bench: verify through $SRC did not pass:" >&2; tail -5 "$TMP/out" "$TMP/err" >&2; exit 1; }
        row "verify end to end: $SRC" "$SIZE" "$(printf '%.0f' "$(echo "$WALL * 1000" | bc -l)")" ms "" "" "$RSS"
        T=$(grep '^timing:' "$TMP/err" | tail -1)
        row "  of which read+decode: $SRC" "$SIZE" "$(grep -oP 'read\+decode \K[0-9.]+' <<<"$T")" ms "" "" ""
        if [[ $SRC == process ]]; then
            row "  of which checks (CPU, $(grep -oP '[0-9]+(?= frames)' <<<"$T") frames)" "$SIZE" "$(grep -oP 'verify \K[0-9.]+' <<<"$T")" ms "" "" ""
            row "  checks per frame" "$SIZE" "$(grep -oP '\(\K[0-9]+(?= ns/frame)' <<<"$T")" ns "" "" ""
            row "  checks per frame, CPU time (load-independent)" "$SIZE" "$(grep -oP '[0-9]+(?= ns CPU/frame)' <<<"$T")" ns "" "" ""
        fi
        if [[ $SRC == file-streaming ]]; then
            row "  checks per frame, CPU time, streamed" "$SIZE" "$(grep -oP '[0-9]+(?= ns CPU/frame)' <<<"$T")" ns "" "" ""
        fi
    done
    stop_qemu
done

if [[ "$HOST" == 1 ]]; then
    echo "bench: host allocator and replay…" >&2
    scripts/bench-allocator.sh >"$TMP/alloc" 2>&1 || true
    while IFS= read -r line; do
        name=$(sed -E 's/^ *(.*[^ ]):? +[0-9.]+ ns.*$/\1/' <<<"$line")
        v=$(grep -oP '[0-9.]+(?= ns)' <<<"$line" | head -1 || true)
        if [[ -n "$v" ]]; then row "host allocator: $name" host "$v" "ns/pair" "" "" ""; fi
    done < <(grep -E '[0-9] ns' "$TMP/alloc" || true)
    # (1 M operations does not fit model-bench's 64 MiB arena: its boot fails; 100 k is its default)
    scripts/bench-model.sh >"$TMP/model" 2>&1 || true
    v=$(grep -oP '^replay: .*: \K[0-9]+(?= operations/s)' "$TMP/model" | tail -1 || true)
    if [[ -n "$v" ]]; then row "replay (reference model, KernelMM log of 100 k ops)" host "$v" "ops/s" "" "" ""; fi
fi

echo
echo "kmemscope benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}') TCG, workload seed=1 ops=$OPS phases=4"
awk -F'|' 'BEGIN { printf "| %-52s | %5s | %10s | %-7s | %6s | %6s | %8s |\n|%s|%s|%s|%s|%s|%s|%s|\n",
                   "phase", "guest", "value", "unit", "× gdb", "× bare", "peak RSS",
                   "------------------------------------------------------", "-------", "------------", "---------", "--------", "--------", "----------" }
           { printf "| %-52s | %5s | %10s | %-7s | %6s | %6s | %8s |\n", $1, $2, $3, $4, $5, $6, ($7 == "" ? "" : $7 " MiB") }' "$ROWS"
