import KernelMM

/// The random operations model-bench runs on KernelMM: every page API, the heap, misuse
/// included (a free with order 12), with a fixed seed so every run makes the same log.
struct Workload {
    var rng = SplitMix64(seed: 42)
    var live: [(PFN, Int)] = []
    var objects: [UInt64] = []
    let managed: [PFN]

    init(_ pa: PageAllocator) {
        managed = (0..<pa.segmentCount).flatMap { i -> [PFN] in
            let s = pa.segment(i).pointee
            return (s.startPFN..<s.endPFN).map(PFN.init)
        }
    }

    mutating func run(_ pa: PageAllocator, operations: Int) {
        for _ in 0..<operations {
            do {
                switch rng.next() % 20 {
                case 0..<7:
                    var order = 0
                    while order < 11 && rng.next() % 3 == 0 { order += 1 }
                    let request = AllocationRequest(order: order, migratetype: rng.next() % 2 == 0 ? .unmovable : .movable,
                                                    zone: ZoneConstraint(rawValue: UInt8(rng.next() % 3))!,
                                                    alignment: rng.next() % 5 == 0 ? 1 << (rng.next() % 4) : 1,
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
    }
}
