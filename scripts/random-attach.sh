#!/usr/bin/env bash
# Attaches kmemscope verify COUNT times at random moments of a running workload and counts
# the outcomes: passed (0), violations (1), no verdict (2, e.g. stuck), other.
#   scripts/random-attach.sh COUNT [MEMORY] [OPS] [CPUS]
# e.g. scripts/random-attach.sh 300 1G 50000000   (enough operations to outlast the attaches)
#      scripts/random-attach.sh 30 256M 20000000 4   (-smp 4: the workload takes turns on every
#      CPU, so the CPU inside an operation when verify attaches can be any of the four)
#      FREE=1 scripts/random-attach.sh 30 256M 20000000 4   (smp=free: the CPUs run at once,
#      under multi-threaded TCG (FREE=single: single-threaded), several inside the allocator)
# Each attach settles to an operation boundary first (stderr: "stopped at sequence N, between
# operations"); on several CPUs only the CPUs inside an operation run to its end, the others stay
# stopped ("… on cpus 0, 2; no other CPU moved"). Exit status 0 when every attach
# passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

count=${1:?usage: scripts/random-attach.sh COUNT [MEMORY] [OPS]}
mem=${2:-1G}
ops=${3:-5000000}
cpus=${4:-1}
[[ $count =~ ^[0-9]+$ && $count -gt 0 ]] || { echo "COUNT must be a positive number" >&2; exit 2; }
[[ $mem =~ ^[0-9]+[MG]$ ]] || { echo "MEMORY must look like 256M or 1G" >&2; exit 2; }
[[ $ops =~ ^[0-9]+$ ]] || { echo "OPS must be a number" >&2; exit 2; }
[[ $cpus =~ ^[0-9]+$ && $cpus -ge 1 && $cpus -le 16 ]] || { echo "CPUS must be 1 to 16" >&2; exit 2; }
# several CPUs: one host thread runs them (as kmemscope boot --smp does; the run is the same)
accel=tcg; smp=()
if [[ $cpus -gt 1 ]]; then accel=tcg,thread=single; smp=(-smp "$cpus"); fi
free=${FREE:-}; extra=""
if [[ -n $free ]]; then extra=" smp=free"; [[ $free == single ]] || accel=tcg,thread=multi; fi

[[ -f kernel/build/kernel.elf ]] || make kernel >/dev/null
swift build --product kmemscope >/dev/null
tool=.build/debug/kmemscope

dir=$(mktemp -d)
qemu_pid=""
cleanup() {
    if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill "$qemu_pid"; sleep 1; kill -9 "$qemu_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

qemu-system-x86_64 -kernel kernel/build/kernel.elf -m "$mem" "${smp[@]}" -append "seed=1 ops=$ops phases=4$extra" \
    -display none -no-reboot -accel "$accel" -serial "file:$dir/serial.txt" \
    -chardev "socket,id=g,path=$dir/gdb.sock,server=on,wait=off" -gdb chardev:g \
    -pidfile "$dir/qemu.pid" -daemonize
qemu_pid=$(cat "$dir/qemu.pid")
for _ in $(seq 600); do grep -q "kmem: workload" "$dir/serial.txt" 2>/dev/null && break; sleep 0.1; done

passed=0 violations=0 noverdict=0 other=0 ran_to_end=0 cpus_run=0 first="" last="" busy_ns=0
for i in $(seq "$count"); do
    sleep "0.$(printf '%03d' $((RANDOM % 400)))"
    t0=$(date +%s%N)
    set +e
    "$tool" verify --target "unix:$dir/gdb.sock" --elf kernel/build/kernel.elf >"$dir/out.txt" 2>"$dir/err.txt"
    status=$?
    set -e
    busy_ns=$((busy_ns + $(date +%s%N) - t0))
    case $status in
        0) passed=$((passed + 1)) ;;
        1) violations=$((violations + 1)); echo "attach $i: violations"; head -20 "$dir/out.txt" ;;
        2) noverdict=$((noverdict + 1)); echo "attach $i: no verdict: $(tail -1 "$dir/err.txt")" ;;
        *) other=$((other + 1)); echo "attach $i: exit $status: $(tail -1 "$dir/err.txt")" ;;
    esac
    grep -q "ran to the end" "$dir/err.txt" && ran_to_end=$((ran_to_end + 1))
    # CPU by CPU: "… in progress on cpu 2;" or "… on cpus 0, 1, 3;" (the CPUs that ran)
    ran=$(sed -n 's/.*in progress on cpus\{0,1\} \([0-9, ]*\); no other CPU moved.*/\1/p' "$dir/err.txt" | tr -cd ',0-9\n')
    [[ -n $ran ]] && cpus_run=$((cpus_run + $(echo "$ran" | tr ',' '\n' | grep -c .)))
    seq_now=$(sed -n 's/^stopped at sequence \([0-9]*\).*/\1/p' "$dir/err.txt")
    [[ -z $first ]] && first=$seq_now
    [[ -n $seq_now ]] && last=$seq_now
done
done_already=$(grep -c "kmem: done" "$dir/serial.txt" || true)
echo "random-attach: $count attaches to a running workload (seed=1 ops=$ops phases=4$extra, -m $mem, -smp $cpus, $accel):" \
     "$passed passed, $violations with violations, $noverdict without verdict, $other other;" \
     "$ran_to_end ran to kmem_op_end ($cpus_run CPUs ran to it, the others stayed stopped); sequences $first…$last;" \
     "$(echo "$busy_ns / $count / 1000000000" | bc -l | xargs printf '%.2f') s per attach (attach, settle, read, verify, exit)" \
     "$([[ $done_already -gt 0 ]] && echo '; note: the workload finished before the last attach')"
[[ $passed -eq $count ]]
