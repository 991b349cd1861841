#!/usr/bin/env bash
# The reference model's replay speed: KernelMM (release) runs N random operations over 64 MiB
# of host "physical memory", and AllocatorModel (release) replays its operation log from the
# boot state. Prints operations per second and the replay's divergences (expected: none).
# Usage: scripts/bench-model.sh [operations, default 100000]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product model-bench >/dev/null
.build/release/model-bench "${1:-100000}"
