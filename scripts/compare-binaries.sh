#!/usr/bin/env bash
# Compares two kmemscope binaries command by command: standard output, standard error and exit
# status must be the same (after the numbers that differ from run to run — durations, rates,
# CPU time, page faults, dates — are blanked). For a refactoring that must change nothing a
# user sees: build the old binary, copy it aside, build the new one, run this.
#
#   scripts/compare-binaries.sh OLD NEW            the bundled kernel: a live guest (its views,
#                                                  verify, the console), a guest with a fault
#                                                  (exit 1), a halted one (post-mortem), snapshots,
#                                                  diff, usage and connection errors
#   KMEMSCOPE_COMPARE_LINUX=1 scripts/compare-binaries.sh OLD NEW
#                                                  also a stock Linux guest (scripts/linux-guest.sh):
#                                                  its views, verify, snapshot, the Linux console
#
# Files a command writes (report, dump) are compared too, snapshots (which hold their date) not.
# Each case prints `same` or `DIFFERS` (with the diff); the exit status is 0 when every case
# is the same, 1 otherwise, 2 on a setup error. The guests are booted with NEW's `boot`,
# stopped once (--leave-stopped) so that every command finds them in the same state, and
# killed at the end. KMEMSCOPE_COMPARE_KEEP=DIR keeps every output there.
set -uo pipefail

old=${1:?usage: compare-binaries.sh OLD NEW}
new=${2:?usage: compare-binaries.sh OLD NEW}
old=$(realpath "$old"); new=$(realpath "$new")
cd "$(dirname "$0")/.."
elf=$PWD/kernel/build/kernel.elf
[ -f "$elf" ] || { echo "compare: $elf not built (make kernel)" >&2; exit 2; }
work=${KMEMSCOPE_COMPARE_KEEP:-$(mktemp -d /tmp/kmemscope-compare-XXXXXX)}
mkdir -p "$work"
cleanup() {
    # boot runs in a command substitution (a subshell): its QEMUs are found by their pidfiles
    for f in "$work"/guest-*/qemu.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    [ -n "${linuxrun:-}" ] && scripts/linux-guest.sh stop "$linuxrun" >/dev/null 2>&1
    [ -z "${KMEMSCOPE_COMPARE_KEEP:-}" ] && rm -rf "$work"
}
trap cleanup EXIT
same=0; differ=0; n=0

# Blanks what changes from run to run: durations, rates, CPU time, faults, dates, run directories.
normalise() {
    sed -E -e 's/[0-9]+(\.[0-9]+)? ?(ms|s|MiB\/s|ns\/frame|ns CPU\/frame|minor faults)\b/N \2/g' \
        -e 's/CPU [0-9]+\.[0-9] ms/CPU N ms/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z/DATE/g' \
        -e "s#$work#WORK#g"
}

# compare NAME [--stdin FILE] ARGS...: runs `BINARY ARGS` with both binaries and compares.
compare() {
    local name=$1; shift
    local input=/dev/null
    if [ "$1" = "--stdin" ]; then input=$2; shift 2; fi
    n=$((n + 1))
    local dir="$work/$n"
    mkdir -p "$dir"
    for side in old new; do
        local bin=$old; [ $side = new ] && bin=$new
        # files a command writes go to a per-side directory, named the same in both runs
        local args=()
        for a in "$@"; do args+=("${a//@OUT@/$dir/$side-out}"); done
        mkdir -p "$dir/$side-out"
        timeout 300 "$bin" "${args[@]}" <"$input" >"$dir/$side.stdout" 2>"$dir/$side.stderr"
        echo "exit $?" >>"$dir/$side.stderr"
        sed -i "s#$dir/$side-out#OUT#g" "$dir/$side.stdout" "$dir/$side.stderr"
        normalise <"$dir/$side.stdout" >"$dir/$side.out"
        normalise <"$dir/$side.stderr" >"$dir/$side.err"
    done
    # the files a command wrote (a report, a dump) must be the same too; a snapshot names its date
    local files=same
    for f in "$dir"/old-out/*; do
        [ -e "$f" ] || continue
        case $f in *.snap) continue ;; esac
        cmp -s "$f" "$dir/new-out/${f##*/}" || { files="differ: ${f##*/}"; echo "file ${f##*/}" >>"$dir/new.err"; }
    done
    if [ "$files" = same ] && cmp -s "$dir/old.out" "$dir/new.out" && cmp -s "$dir/old.err" "$dir/new.err"; then
        same=$((same + 1))
        printf 'same     %-44s (%s)\n' "$name" "$(tail -1 "$dir/new.err")"
    else
        differ=$((differ + 1))
        printf 'DIFFERS  %s\n' "$name"
        diff "$dir/old.out" "$dir/new.out" | head -20
        diff "$dir/old.err" "$dir/new.err" | head -20
    fi
}

# boot NAME APPEND [MEMORY]: boots the bundled kernel, waits for its workload, stops it; prints the target.
boot() {
    local run="$work/guest-$1"
    mkdir -p "$run"
    "$new" boot --memory "${3:-256M}" --append "$2" --run-directory "$run" --wait "${4:-done}" --elf "$elf" >"$run/boot.txt" 2>&1
    local status=$?
    [ $status -le 1 ] || { echo "compare: boot $1 failed" >&2; cat "$run/boot.txt" >&2; exit 2; }
    "$new" info --target "unix:$run/gdb.sock" --elf "$elf" --leave-stopped >/dev/null 2>&1
    echo "unix:$run/gdb.sock"
}

echo "== the bundled kernel, a live guest (old: $old, new: $new)"
live=$(boot live "seed=1 ops=4000 phases=2")
t=(--target "$live" --elf "$elf")
addr=0xffff888000200000
for json in "" --json; do
    compare "info $json" info "${t[@]}" $json
    compare "zones $json" zones "${t[@]}" $json
    compare "zones --tree $json" zones --tree "${t[@]}" $json
    for view in buddyinfo pagetypeinfo zoneinfo slabinfo; do compare "$view $json" $view "${t[@]}" $json; done
    compare "verify $json" verify "${t[@]}" $json
    compare "verify --replay $json" verify --replay "${t[@]}" $json
    compare "verify --streaming $json" verify --streaming "${t[@]}" $json
    compare "frame 0x1000 4 $json" frame 0x1000 4 "${t[@]}" $json
    compare "frame --address $json" frame --address $addr "${t[@]}" $json
    compare "freelist DMA32 0 $json" freelist DMA32 0 "${t[@]}" $json
    compare "freelist Normal 3 Movable $json" freelist DMA32 3 Movable "${t[@]}" $json
    compare "kmem $json" kmem $addr "${t[@]}" $json
    compare "vtop $json" vtop $addr "${t[@]}" $json
    compare "log $json" log --last 8 "${t[@]}" $json
done
compare "verify --timing" verify --timing "${t[@]}"
compare "verify --settle" verify --settle "${t[@]}"
compare "dump" dump 0x1000 64 --physical -o @OUT@/dump.bin "${t[@]}"
compare "dump frame-meta --timing" dump frame-meta -o @OUT@/fm.bin --timing "${t[@]}"
compare "report" report -o @OUT@/report.html "${t[@]}"
compare "snapshot -o" snapshot -o @OUT@/a.snap "${t[@]}"
"$new" snapshot -o "$work/a.snap" "${t[@]}" >/dev/null 2>&1
"$new" snapshot -o "$work/b.snap" --free-pages "${t[@]}" >/dev/null 2>&1
printf 'zones\nbuddyinfo --json\nverify\nframe 0x1000\nlog --last 3\nkmem %s\nvtop %s\nbogus\nverify --from x\nquit\n' $addr $addr >"$work/console.txt"
compare "attach (console, piped)" --stdin "$work/console.txt" attach "${t[@]}"
printf 'continue\nzones\nstop\nverify\nquit\n' >"$work/console-run.txt"
compare "attach (continue, stop)" --stdin "$work/console-run.txt" attach "${t[@]}"
compare "watch --stops 2 --every 100" watch --stops 2 --every 100 "${t[@]}"

echo "== snapshots"
s=(--snapshot "$work/a.snap" --elf "$elf")
for json in "" --json; do
    compare "info --snapshot $json" info "${s[@]}" $json
    compare "zones --snapshot $json" zones "${s[@]}" $json
    compare "zones --tree --snapshot $json" zones --tree "${s[@]}" $json
    for view in buddyinfo pagetypeinfo zoneinfo slabinfo; do compare "$view --snapshot $json" $view "${s[@]}" $json; done
    compare "verify --snapshot $json" verify "${s[@]}" $json
    compare "verify --replay --snapshot $json" verify --replay "${s[@]}" $json
    compare "frame --snapshot $json" frame 0x1000 2 "${s[@]}" $json
    compare "freelist --snapshot $json" freelist DMA32 1 "${s[@]}" $json
    compare "kmem --snapshot $json" kmem $addr "${s[@]}" $json
    compare "vtop --snapshot $json" vtop $addr "${s[@]}" $json
    compare "log --snapshot $json" log --last 4 "${s[@]}" $json
    compare "diff $json" diff "$work/a.snap" "$work/b.snap" --elf "$elf" $json
done
compare "verify --free-page-poison --snapshot" verify --free-page-poison --snapshot "$work/b.snap" --elf "$elf"
compare "verify --timing --snapshot" verify --timing "${s[@]}"
compare "verify --replay --from" verify --replay --from "$work/a.snap" "${t[@]}"
compare "diff (reversed: exit 2)" diff "$work/b.snap" "$work/a.snap" --elf "$elf"
printf 'zones\nverify --json\ncontinue\nquit\n' >"$work/console-offline.txt"
compare "attach --snapshot (offline console)" --stdin "$work/console-offline.txt" attach "${s[@]}"

echo "== usage and connection errors"
compare "usage: unknown option" zones --bogus
compare "usage: frame without PFN" frame "${t[@]}"
compare "usage: --from without --replay" verify --from x "${t[@]}"
compare "usage: --streaming --replay" verify --streaming --replay "${t[@]}"
compare "usage: --snapshot with --resume" zones --snapshot "$work/a.snap" --resume
compare "usage: --kernel linux without --symbols" zones --kernel linux
compare "usage: log --kernel linux" log --kernel linux --symbols /dev/null
compare "usage: bad address" kmem nothing "${t[@]}"
compare "connection refused" info --target 127.0.0.1:1 --elf "$elf"
compare "no such ELF" zones --target "$live" --elf /nonexistent
compare "not the kmemscope kernel" zones --target "$live" --elf /bin/true
compare "freelist: no zone" freelist Nowhere 0 "${t[@]}"
compare "vmcore with the bundled kernel" zones --vmcore /dev/null
compare "snapshot of a snapshot" snapshot -o @OUT@/x.snap "${s[@]}"
compare "bisect: no workload" bisect --memory 128M --append "seed=1"
compare "bisect: --lo not below --hi" bisect --memory 128M --append "seed=1 ops=10" --lo 5 --hi 5

echo "== a guest with a fault (verify: exit 1)"
fault=$(boot fault "seed=3 ops=3000 fault=lost-block@2000" 128M)
f=(--target "$fault" --elf "$elf")
for json in "" --json; do
    compare "verify (fault) $json" verify "${f[@]}" $json
    compare "verify --replay (fault) $json" verify --replay "${f[@]}" $json
    compare "zones (fault) $json" zones "${f[@]}" $json
done
compare "report (fault)" report -o @OUT@/fault.html "${f[@]}"
compare "bisect (fault)" bisect --memory 128M --append "seed=3 ops=3000 fault=lost-block@2000" --elf "$elf"

echo "== a kernel halted at its BUG (post-mortem)"
bug=$(boot bug "seed=1 ops=2000 misuse=double-free" 128M)
b=(--target "$bug" --elf "$elf")
for json in "" --json; do
    compare "verify (halted) $json" verify "${b[@]}" $json
    compare "verify --replay (halted) $json" verify --replay "${b[@]}" $json
    compare "log (halted) $json" log --last 4 "${b[@]}" $json
done

if [ "${KMEMSCOPE_COMPARE_LINUX:-}" = 1 ]; then
    echo "== a stock Linux guest"
    linuxrun="$work/linux"
    mkdir -p "$linuxrun"
    scripts/linux-guest.sh boot "$linuxrun" >/dev/null && scripts/linux-guest.sh wait "$linuxrun" >/dev/null \
        || { echo "compare: the Linux guest did not boot" >&2; exit 2; }
    l=(--kernel linux --symbols "$linuxrun/kallsyms" --target "unix:$linuxrun/gdb.sock")
    "$new" info "${l[@]}" --leave-stopped >/dev/null 2>&1
    for json in "" --json; do
        compare "linux info $json" info "${l[@]}" $json
        compare "linux zones $json" zones "${l[@]}" $json
        compare "linux zones --tree $json" zones --tree "${l[@]}" $json
        for view in buddyinfo pagetypeinfo zoneinfo slabinfo; do compare "linux $view $json" $view "${l[@]}" $json; done
        compare "linux verify $json" verify "${l[@]}" $json
        compare "linux frame $json" frame 0x1000 2 "${l[@]}" $json
        compare "linux freelist $json" freelist Normal 0 "${l[@]}" $json
    done
    compare "linux buddyinfo --pagetypeinfo --timing" buddyinfo --pagetypeinfo --timing "${l[@]}"
    compare "linux snapshot" snapshot -o @OUT@/l.snap "${l[@]}"
    "$new" snapshot -o "$work/l.snap" "${l[@]}" >/dev/null 2>&1
    ls=(--kernel linux --symbols "$linuxrun/kallsyms" --snapshot "$work/l.snap")
    compare "linux verify --snapshot" verify "${ls[@]}"
    compare "linux buddyinfo --snapshot --json" buddyinfo "${ls[@]}" --json
    for json in "" --json; do compare "linux zoneinfo --snapshot $json" zoneinfo "${ls[@]}" $json; done
    # zoneinfo's names are the guest's vmstat_text: symbols without it are refused (exit 2)
    grep -v ' vmstat_text$' "$linuxrun/kallsyms" >"$work/kallsyms-no-vmstat"
    compare "linux zoneinfo (no vmstat_text)" zoneinfo --kernel linux --symbols "$work/kallsyms-no-vmstat" --target "unix:$linuxrun/gdb.sock"
    compare "linux zoneinfo --snapshot (no vmstat_text)" zoneinfo --kernel linux --symbols "$work/kallsyms-no-vmstat" --snapshot "$work/l.snap"
    compare "linux diff" diff "$work/l.snap" "$work/l.snap" --kernel linux --symbols "$linuxrun/kallsyms"
    compare "linux verify --replay (refused)" verify --replay "${l[@]}"
    printf 'zones\nverify\ncontinue\nbuddyinfo\nstop\nuntil 5\nquit\n' >"$work/linux-console.txt"
    compare "linux attach (console)" --stdin "$work/linux-console.txt" attach "${l[@]}"
    printf 'zones\nverify\nzoneinfo --json\nstop\nquit\n' >"$work/linux-console-offline.txt"
    compare "linux attach --snapshot" --stdin "$work/linux-console-offline.txt" attach "${ls[@]}"
fi

echo "compare: $n cases, $same the same, $differ differ"
[ $differ -eq 0 ]
