// model-bench: the reference model's replay speed on a real KernelMM operation log. Boots the
// kernel's allocator (KernelMM) over a host buffer (64 MiB of managed memory plus room for
// the log), runs N random operations on it (every API, misuse included), reads its operation
// log, and replays it through AllocatorModel — from the boot state and from a snapshot taken
// right after boot (`ModelState(snapshot:)`) — then compares the replayed model with the
// final snapshot. Prints operations per second for each (best of R runs) and the divergences
// found (expected: none). `scripts/bench-model.sh` runs it in release mode.
//
// Usage: model-bench [operations, default 100000] [runs, default 3] [--boot-only]
// (--boot-only: one replay from boot and nothing else, for callgrind's instruction count).
import AllocatorModel
import Glibc
import KernelHarness
import KernelMM

func now() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

func rate(_ n: Int, _ ns: UInt64) -> Int { Int(Double(n) / (Double(max(ns, 1)) / 1e9)) }
func ms(_ ns: UInt64) -> String { String(Double(ns / 10_000) / 100) + " ms" }

let arguments = CommandLine.arguments.dropFirst().filter { !$0.hasPrefix("--") }
let operations = arguments.first.flatMap { Int($0) } ?? 100_000
let runs = max(1, arguments.dropFirst().first.flatMap { Int($0) } ?? 3)
let bootOnly = CommandLine.arguments.contains("--boot-only")

var capacity: UInt64 = 1
while capacity < UInt64(operations) * 2 { capacity <<= 1 }
let arena = try HostArena(map: .bench(managedBytes: 64 << 20, logCapacity: capacity), opLogCapacity: capacity)
let pa = arena.allocator

// The model's boot state, from the kernel's segments and zone parameters.
let specs = (0..<pa.segmentCount).map { i -> ModelState.SegmentSpec in
    let s = pa.segment(i).pointee
    return .init(startPFN: s.startPFN, endPFN: s.endPFN, zone: Int(s.zone))
}
let parameters = (0..<3).map { z -> ModelState.Parameters in
    let zone = pa.zone(z).pointee
    return .init(min: zone.watermarkMin, low: zone.watermarkLow, high: zone.watermarkHigh,
                 lowmemReserve: [zone.lowmemReserve[0], zone.lowmemReserve[1], zone.lowmemReserve[2]],
                 batch: pa.perCPU(z, cpu: 0).pointee.batch, pcpHigh: pa.perCPU(z, cpu: 0).pointee.high)
}
var boot = ModelState(boot: specs, directMap: arena.directMap, parameters: parameters)
boot.sequence = arena.sequence
let bootSnapshot = bootOnly ? nil : try arena.snapshot()

var workload = Workload(pa)
let t0 = now()
workload.run(pa, operations: operations)
let t1 = now()
let log = arena.entries(after: boot.sequence)
let last = arena.sequence
print("KernelMM: \(operations) operations in \(ms(t1 - t0)) (\(rate(operations, t1 - t0)) operations/s), "
      + "\(log.count) log entries, \(managedFrames(specs)) managed frames")

if bootOnly {
    let t = now()
    let (report, _) = Replay(capacity: capacity).run(from: boot, log: log, through: last)
    let d = now() - t
    print("replay from boot: \(report.operations) operations in \(ms(d)): \(rate(report.operations, d)) operations/s")
    print(report.text)
    exit(report.divergences == 0 && report.stop == nil ? 0 : 1)
}

let end = try arena.snapshot()
var best = (boot: UInt64.max, load: UInt64.max, snapshot: UInt64.max, compare: UInt64.max)
var texts: [String] = []
var clean = true
for run in 1...runs {
    // From the boot state.
    var t = now()
    let (fromBoot, bootState) = Replay(capacity: capacity).run(from: boot, log: log, through: last)
    let dBoot = now() - t
    // From a snapshot: read it into a model, then replay.
    t = now()
    let start = ModelState(snapshot: bootSnapshot!)
    let dLoad = now() - t
    t = now()
    let (fromSnapshot, _) = Replay(capacity: capacity).run(from: start, log: log, through: last)
    let dSnapshot = now() - t
    // The final comparison, alone.
    t = now()
    let comparison = ModelComparison(model: bootState, snapshot: end)
    let dCompare = now() - t
    print("run \(run): replay from boot \(ms(dBoot)), snapshot read \(ms(dLoad)), replay from snapshot \(ms(dSnapshot)), "
          + "comparison \(ms(dCompare))")
    best = (min(best.boot, dBoot), min(best.load, dLoad), min(best.snapshot, dSnapshot), min(best.compare, dCompare))
    clean = clean && fromBoot.divergences == 0 && fromBoot.stop == nil && fromSnapshot.divergences == 0
        && fromSnapshot.stop == nil && comparison.matches
    if run == 1 {
        texts = ["from boot: " + fromBoot.text, "from snapshot: " + fromSnapshot.text, "final state: " + comparison.text]
    }
    if run == 1 { print("operations replayed: \(fromBoot.operations) (\(fromBoot.entries) log entries)") }
    if run == runs {
        let n = fromBoot.operations
        print("best of \(runs): replay from boot \(rate(n, best.boot)) operations/s; replay from snapshot "
              + "\(rate(fromSnapshot.operations, best.snapshot)) operations/s (+ \(ms(best.load)) to read the snapshot); "
              + "final comparison \(ms(best.compare)) (\(managedFrames(specs)) frames)")
    }
}
for line in texts { print(line) }
exit(clean ? 0 : 1)

func managedFrames(_ specs: [ModelState.SegmentSpec]) -> UInt64 { specs.reduce(0) { $0 + $1.endPFN - $1.startPFN } }
