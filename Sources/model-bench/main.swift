// model-bench: the reference model's replay speed on a real KernelMM operation log. Boots the
// kernel's allocator (KernelMM) over a host buffer, runs N random operations on it (every
// API, misuse included), reads its operation log, and replays it through AllocatorModel from
// the boot state, printing operations per second and the divergences found (expected: 0).
// `scripts/bench-model.sh` runs it in release mode.
import AllocatorModel
import Glibc
import KernelMM

func now() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

let operations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 100_000 : 100_000
let bytes = 64 << 20
guard let base = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
    fatalError("mmap failed")
}
let regions = [MemoryRegion(base: 0, length: 0x9F000, type: 1), MemoryRegion(base: 0x100000, length: 0x1F00000, type: 1),
               MemoryRegion(base: 0x2100000, length: UInt64(bytes - 0x2100000), type: 1)]
var config = BootConfig(directMapOffset: UInt64(UInt(bitPattern: base)))
config.dma32StartPFN = 0x1000
config.normalStartPFN = 0x2800
config.kernel = PhysRange(start: 0x100000, end: 0x400000)
var capacity: UInt64 = 1
while capacity < UInt64(operations) * 2 { capacity <<= 1 }
config.opLogCapacity = capacity
let pa = try regions.withUnsafeBufferPointer { r in
    try PageAllocator.boot(regions: r, reservations: UnsafeBufferPointer(start: nil, count: 0), config: config)
}

// The model's boot state, from the kernel's segments and zone parameters.
let specs = (0..<pa.segmentCount).map { i -> ModelState.SegmentSpec in
    let s = pa.segment(i).pointee
    return .init(startPFN: s.startPFN, endPFN: s.endPFN, zone: Int(s.zone))
}
let parameters = (0..<3).map { z -> ModelState.Parameters in
    let zone = pa.zone(z).pointee
    return .init(min: zone.watermarkMin, low: zone.watermarkLow, high: zone.watermarkHigh,
                 lowmemReserve: [zone.lowmemReserve[0], zone.lowmemReserve[1], zone.lowmemReserve[2]],
                 batch: zone.pcp.batch, pcpHigh: zone.pcp.high)
}
var start = ModelState(boot: specs, directMap: UInt64(UInt(bitPattern: base)), parameters: parameters)
start.sequence = pa.state.pointee.sequence

// The random operations.
var rng = SplitMix64(seed: 42)
var live: [(PFN, Int)] = []
var objects: [UInt64] = []
let managed = specs.flatMap { ($0.startPFN..<$0.endPFN).map(PFN.init) }
let t0 = now()
for _ in 0..<operations {
    do {
        switch rng.next() % 20 {
        case 0..<7:
            var order = 0
            while order < 11 && rng.next() % 3 == 0 { order += 1 }
            let request = AllocationRequest(order: order, migratetype: rng.next() % 2 == 0 ? .unmovable : .movable,
                                            zone: ZoneConstraint(rawValue: UInt8(rng.next() % 3))!, alignment: rng.next() % 5 == 0 ? 1 << (rng.next() % 4) : 1,
                                            owner: 42, ignoreWatermarks: rng.next() % 8 == 0)
            if let p = try pa.allocate(request) { live.append((p, order)) }
        case 7..<12:
            if !live.isEmpty {
                let (p, k) = live.remove(at: Int(rng.next() % UInt64(live.count)))
                try pa.free(p, order: k)
            }
        case 12:
            let p = managed[Int(rng.next() % UInt64(managed.count))]
            if try pa.allocateFrame(p, owner: 42) { live.append((p, 0)) }
        case 13: _ = try pa.reserveRange(start: managed[Int(rng.next() % UInt64(managed.count))], count: 1 + rng.next() % 4, owner: 42)
        case 14: try pa.drainPerCPU(pa.zone(Int(rng.next() % 3)), all: rng.next() % 2 == 0)
        case 15, 16:
            let o = try pa.kmalloc(size: rng.next() % 8 == 0 ? 2049 + rng.next() % 30000 : 1 + rng.next() % 2048)
            if o != 0 { objects.append(o) }
        case 17, 18:
            if !objects.isEmpty { try pa.kfree(objects.remove(at: Int(rng.next() % UInt64(objects.count)))) }
        default:
            if let (p, _) = live.first { try pa.free(p, order: 12) }
        }
    } catch {}
}
let t1 = now()
let last = pa.state.pointee.sequence
let log: [OpLogRecord] = (start.sequence + 1...last).compactMap { s in
    pa.logEntry(s).map { e in
        OpLogRecord(sequence: e.sequence, rawKind: e.kind, order: e.order, migratetype: e.migratetype, zone: e.zone, status: e.status,
                    flags: e.flags, alignment: e.alignment, size: e.size, address: e.address, result: e.result, owner: e.owner, parent: e.parent)
    }
}
let t2 = now()
let (report, _) = Replay(capacity: capacity).run(from: start, log: log, through: last)
let t3 = now()
func rate(_ n: Int, _ ns: UInt64) -> Int { Int(Double(n) / (Double(ns) / 1e9)) }
print("KernelMM: \(operations) operations in \((t1 - t0) / 1_000_000) ms (\(rate(operations, t1 - t0)) operations/s)")
print("replay: \(report.operations) operations, \(report.entries) log entries in \((t3 - t2) / 1_000_000) ms: "
      + "\(rate(report.operations, t3 - t2)) operations/s")
print(report.text)
