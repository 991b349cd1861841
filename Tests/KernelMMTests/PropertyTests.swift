import KernelHarness
import Testing
@testable import KernelMM

/// Random operation storms over a small arena with holes, checking after every operation
/// the allocator's own invariants and an independent shadow of what is live.
@Suite("Random operation sequences")
struct PropertyTests {
    /// The small map (6 MiB with a hole; all three zones).
    static func smallArena(poison: Bool = false) throws -> HostArena {
        try HostArena(map: .small, poison: poison)
    }

    /// 20 batches × 50 sequences × 40 operations = 1000 sequences.
    @Test(arguments: 0..<20)
    func shortSequences(batch: UInt64) throws {
        for i in 0..<50 as Range<UInt64> {
            let seed = batch * 50 + i
            var storm = try Storm(seed: seed, arena: PropertyTests.smallArena(poison: seed % 7 == 0))
            try storm.run(operations: 40)
            // The storm recorded what went wrong; later seeds would only repeat it.
            try #require(!storm.failed, "seed \(seed) failed: the batch stops here")
        }
    }

    @Test(arguments: [1001, 1002, 1003, 1004] as [UInt64])
    func longSequences(seed: UInt64) throws {
        var storm = try Storm(seed: seed, arena: PropertyTests.smallArena(poison: seed == 1004))
        try storm.run(operations: 2000)
        #expect(!storm.failed, "seed \(seed)")
    }
}

/// One random storm: its generator, arena and shadow of live blocks.
struct Storm {
    let seed: UInt64
    var rng: SplitMix64
    let arena: HostArena
    var pa: PageAllocator { arena.allocator }
    /// Live blocks: head PFN → order.
    var live: [PFN: Int] = [:]
    /// Owner of each frame by the shadow: nil = not handed out by us.
    var owner: [PFN: PFN] = [:]
    var reserved: Set<PFN> = []
    /// References taken with `get` beyond the first, per live block head.
    var extraRefs: [PFN: Int] = [:]
    /// Live `allocateCount` ranges: first PFN → count.
    var counted: [PFN: UInt64] = [:]
    var freed: [PFN] = []
    var objects: Set<UInt64> = []
    var managed: [PFN]
    var failed = false
    var step = 0

    init(seed: UInt64, arena: HostArena) throws {
        self.seed = seed
        rng = SplitMix64(seed: seed)
        self.arena = arena
        managed = arena.managedPFNs
    }

    /// A random entry, chosen in key order: Dictionary and Set order differ from one process
    /// to the next (hash seeding), and the storm must replay from its seed alone.
    mutating func pick<V>(_ d: [PFN: V]) -> (PFN, V)? {
        guard !d.isEmpty else { return nil }
        let k = d.keys.sorted()[Int(rng.next() % UInt64(d.count))]
        return (k, d[k]!)
    }

    mutating func pick<T: Comparable>(_ s: Set<T>) -> T? {
        guard !s.isEmpty else { return nil }
        return s.sorted()[Int(rng.next() % UInt64(s.count))]
    }

    mutating func fail(_ what: String) {
        Issue.record("seed \(seed) step \(step): \(what)")
        failed = true
    }

    mutating func randomOrder() -> Int {
        var k = 0
        while k < Kmem.maxOrder && rng.next() % 3 == 0 { k += 1 }
        return k
    }

    mutating func run(operations: Int) throws {
        while step < operations && !failed {
            let dice = rng.next() % 100
            switch dice {
            case 0..<34: try allocate()
            case 34..<58: try freeOne()
            case 58..<64: try allocateSpecific()
            case 64..<67: try reserve()
            case 67..<70: try pa.drainPerCPU(pa.zone(Int(rng.next() % 3)), all: rng.next() % 2 == 0)
            case 70..<78: try heapAllocate()
            case 78..<85: try heapFree()
            case 85..<89: try reference()
            case 89..<93: try allocateCounted()
            case 93..<95: try unreserveSome()
            default: try misuse()
            }
            let r = arena.check()
            if !r.passed { fail("self-check after operation:\n\(r.text)"); return }
            step += 1
        }
        // Everything handed out comes back, and the counters agree.
        for (p, n) in extraRefs { for _ in 0..<n { try pa.put(p) } }
        for (p, k) in live { try pa.free(p, order: k) }
        for (p, n) in counted { try pa.freeCount(p, count: n) }
        for p in reserved.sorted() { try pa.unreserve(start: p, count: 1) }
        for o in objects { try pa.kfree(o) }
        for z in 0..<3 { try pa.drainPerCPU(pa.zone(z), all: true) }
        for z in 0..<3 {
            let zone = pa.zone(z).pointee
            if zone.freePages != zone.managedPages || zone.allocatedPages != 0 || zone.reservedPages != 0 {
                fail("zone \(z) after freeing all: free \(zone.freePages) reserved \(zone.reservedPages) managed \(zone.managedPages)")
            }
        }
        let r = arena.check()
        if !r.passed { fail("self-check at the end:\n\(r.text)") }
    }

    mutating func allocate() throws {
        let order = randomOrder()
        let mt: Migratetype = rng.next() % 2 == 0 ? .unmovable : .movable
        let zone = ZoneConstraint(rawValue: UInt8(rng.next() % 3))!
        let alignment: UInt64 = rng.next() % 4 == 0 ? 1 << UInt64(order + Int(rng.next() % 4)) : 1
        let request = AllocationRequest(order: order, migratetype: mt, zone: zone, alignment: alignment,
                                        owner: seed, ignoreWatermarks: rng.next() % 8 == 0)
        guard let p = try pa.allocate(request) else { return }
        if p % alignment != 0 || p % (1 << UInt64(order)) != 0 { return fail("pfn \(p) misaligned for order \(order) alignment \(alignment)") }
        if arena.zoneOf(p) > zone.highestZone { return fail("pfn \(p) above zone constraint \(zone)") }
        for f in p..<(p + 1 << UInt64(order)) {
            if owner[f] != nil || reserved.contains(f) { return fail("pfn \(f) handed out twice") }
            if pa.segmentIndex(containing: f) == nil { return fail("pfn \(f) outside managed memory") }
            owner[f] = p
        }
        live[p] = order
    }

    mutating func freeOne() throws {
        guard let (p, k) = pick(live) else { return }
        if let n = extraRefs[p] {
            // a shared block: free is misuse until the other references are gone
            expectThrow { (a: PageAllocator) throws(KmemError) in try a.free(p, order: k) }
            if try pa.put(p) != UInt32(n) { return fail("put(\(p)) left the wrong count") }
            extraRefs[p] = n > 1 ? n - 1 : nil
            return
        }
        try pa.free(p, order: k)
        for f in p..<(p + 1 << UInt64(k)) { owner[f] = nil }
        live[p] = nil
        freed.append(p)
    }

    /// Whether the heap holds frame `p` (a slab page or a large block): the storm's shadow does
    /// not see those, so it asks the frame's owner tag.
    func heapHolds(_ p: PFN) -> Bool {
        let m = pa.meta(p).pointee
        return m.state.contains(.allocated) && (m.owner == Kmem.largeHeapOwner || (m.owner >= Kmem.slabOwnerBase && m.owner < Kmem.slabOwnerBase + 8))
    }

    /// `get` on a live block, or the last `put` that frees it.
    mutating func reference() throws {
        guard let (p, k) = pick(live) else { return }
        if rng.next() % 3 != 0 {
            let n = try pa.get(p)
            extraRefs[p, default: 0] += 1
            if n != UInt32(extraRefs[p]! + 1) { return fail("get(\(p)) returned \(n)") }
        } else if extraRefs[p] == nil {
            if try pa.put(p) != 0 { return fail("last put(\(p)) did not free") }
            for f in p..<(p + 1 << UInt64(k)) { owner[f] = nil }
            live[p] = nil
        }
    }

    /// `allocateCount` of 1…40 frames (sometimes more), kept or freed at once by `freeCount`.
    mutating func allocateCounted() throws {
        if let (p, n) = pick(counted), rng.next() % 2 == 0 {
            try pa.freeCount(p, count: n)
            for f in p..<(p + n) { owner[f] = nil }
            counted[p] = nil
            return
        }
        let n = rng.next() % 10 == 0 ? 1 + rng.next() % 2048 : 1 + rng.next() % 40
        let mt: Migratetype = rng.next() % 2 == 0 ? .unmovable : .movable
        guard let p = try pa.allocateCount(n, migratetype: mt, owner: seed) else { return }
        for f in p..<(p + n) {
            if owner[f] != nil || reserved.contains(f) { return fail("allocateCount: pfn \(f) handed out twice") }
            owner[f] = p
        }
        if n & (n - 1) != 0 {
            // the block was larger than n: its tail went back to the free lists at once
            let st = pa.meta(p + n).pointee.state
            if !st.contains(.free) { return fail("allocateCount(\(n)): tail frame \(p + n) is \(st.rawValue), not free") }
        }
        counted[p] = n
    }

    /// `unreserve` of one reserved frame.
    mutating func unreserveSome() throws {
        guard let p = pick(reserved) else { return }
        try pa.unreserve(start: p, count: 1)
        reserved.remove(p)
    }

    mutating func allocateSpecific() throws {
        let p = managed.randomElement(using: &rng)!
        let busy = owner[p] != nil || reserved.contains(p) || heapHolds(p)
        let got = try pa.allocateFrame(p, owner: seed)
        if got == busy { return fail("allocateFrame(\(p)) returned \(got) but the frame is \(busy ? "busy" : "free")") }
        if got { owner[p] = p; live[p] = 0 }
    }

    mutating func reserve() throws {
        let p = managed.randomElement(using: &rng)!
        let n = 1 + rng.next() % 8
        guard (p..<(p + n)).allSatisfy({ pa.segmentIndex(containing: $0) != nil }) else { return }
        let busy = (p..<(p + n)).contains { owner[$0] != nil || reserved.contains($0) || heapHolds($0) }
        let got = try pa.reserveRange(start: p, count: n, owner: seed)
        if got == busy { return fail("reserveRange(\(p), \(n)) returned \(got)") }
        if got { for f in p..<(p + n) { reserved.insert(f) } }
    }

    mutating func heapAllocate() throws {
        let size = rng.next() % 6 == 0 ? 2049 + rng.next() % 20000 : 1 + rng.next() % 2048
        let o = try pa.kmalloc(size: size)
        guard o != 0 else { return }
        let pfn = PFN((o - pa.state.pointee.directMapOffset) >> 12)
        if objects.contains(o) { return fail("kmalloc returned live object \(o) again") }
        if owner[pfn] != nil || reserved.contains(pfn) { return fail("heap object \(o) inside a page handed out to the storm") }
        objects.insert(o)
    }

    mutating func heapFree() throws {
        guard let o = pick(objects) else { return }
        try pa.kfree(o)
        objects.remove(o)
        if rng.next() % 4 == 0 { expectThrow { (a: PageAllocator) throws(KmemError) in try a.kfree(o) } }
    }

    /// A misuse must throw and leave the state exactly valid.
    mutating func misuse() throws {
        switch rng.next() % 4 {
        case 0:
            guard let p = freed.randomElement(using: &rng), owner[p] == nil, !reserved.contains(p),
                  pa.meta(p).pointee.owner != Kmem.largeHeapOwner else { return }
            expectThrow { (a: PageAllocator) throws(KmemError) in try a.free(p, order: 0) }
        case 1:
            guard let (p, k) = pick(live) else { return }
            expectThrow { (a: PageAllocator) throws(KmemError) in try a.free(p, order: k == Kmem.maxOrder ? k - 1 : k + 1) }
        case 2:
            guard let (p, k) = pick(live), k > 0 else { return }
            expectThrow { (a: PageAllocator) throws(KmemError) in try a.free(p + 1, order: 0) }
        default:
            guard let p = pick(reserved) else { return }
            expectThrow { (a: PageAllocator) throws(KmemError) in try a.free(p, order: 0) }
        }
    }

    mutating func expectThrow(_ body: (PageAllocator) throws(KmemError) -> Void) {
        do {
            try body(pa)
            fail("misuse was not detected")
        } catch {}
    }
}
