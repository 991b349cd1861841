#!/usr/bin/env bash
# The reference model's replay speed: KernelMM (release) runs N random operations over 64 MiB
# of host "physical memory" (plus room for the log), and AllocatorModel (release) replays its
# operation log from the boot state and from a snapshot taken after boot, then compares the
# replayed model with the final snapshot. Prints operations per second for each (best of R
# runs: the machine is shared, single runs are noisy) and the divergences (expected: none).
# --instructions: callgrind's instruction count of one replay from boot, per operation (the
# repeatable figure; takes a few minutes at 1 M operations).
# Usage: scripts/bench-model.sh [operations, default 1000000] [runs, default 3] [--instructions]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
instructions=0
args=()
for a in "$@"; do
    if [[ $a == --instructions ]]; then instructions=1; else args+=("$a"); fi
done
ops=${args[0]:-1000000}
runs=${args[1]:-3}
swift build -c release --product model-bench >/dev/null
if (( instructions )); then
    command -v valgrind >/dev/null || { echo "bench-model: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    symbol=$(nm .build/release/model-bench | awk '!found && / T .*14AllocatorModel6ReplayV6judged4from3log7through/ { print $3; found = 1 }')
    [[ -n $symbol ]] || { echo "bench-model: Replay.judged not found in model-bench's symbols" >&2; exit 2; }
    status=0
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" --toggle-collect="$symbol" \
        .build/release/model-bench "$ops" 1 --boot-only >"$out/stdout" 2>"$out/stderr" || status=$?
    if (( status != 0 )); then
        cat "$out/stdout" "$out/stderr" >&2
        echo "bench-model: model-bench under callgrind exited with status $status" >&2
        exit 2
    fi
    cat "$out/stdout"
    collected=$(awk '/Collected :/ { print $4 }' "$out/stderr")
    replayed=$(awk '/^replay from boot:/ { print $4 }' "$out/stdout")
    echo "callgrind: $collected instructions in Replay.judged for $replayed operations: $(( collected / replayed )) instructions per operation"
else
    .build/release/model-bench "$ops" "$runs"
fi
