import AllocatorModel
import BundledState
import KernelHarness
import KernelMM

/// One random operation sequence run on KernelMM and on the reference model side by side:
/// every API (orders 0–11, both migratetypes, zone constraints, alignments, specific frames,
/// reservations, drains, kmalloc/kfree of every size class and large ones, misuse), with
/// phases that fill memory so watermarks, per-CPU drains and stealing happen, and with
/// poisoning on, free pages scribbled on so quarantines happen.
///
/// After every operation the kernel's new log entries are compared with the model's; the
/// first difference is kept with the seed and step, and the storm stops there.
struct Storm {
    struct Options {
        var large = false
        var poison = false
        /// Per mille of steps that scribble on a free page (poison only).
        var scribbles: UInt64 = 0
        /// Boot with RAM held back and add it (or try to, wrongly) along the way.
        var hotAdd = false
    }

    let seed: UInt64
    let options: Options
    var rng: SplitMix64
    let arena: HostArena
    var model: ModelState
    /// Where the run started (the snapshot right after boot) and its state read back.
    let start: KernelSnapshot
    var pa: PageAllocator { arena.allocator }
    var live: [UInt64: Int] = [:]
    /// References added with `get` beyond the first, by block head.
    var refs: [UInt64: Int] = [:]
    /// Count-based allocations: first PFN → count.
    var counted: [UInt64: UInt64] = [:]
    var freedCounted: [(UInt64, UInt64)] = []
    /// Ranges reserved by `reserveRange` and still reserved.
    var reservedRanges: [(UInt64, UInt64)] = []
    var freed: [UInt64] = []
    var reserved: [UInt64] = []
    var objects: [UInt64] = []
    var freedObjects: [UInt64] = []

    /// A random entry, chosen in key order: Dictionary order differs from one process to the
    /// next (hash seeding), and a storm must replay from its seed alone.
    mutating func pick<V>(_ d: [UInt64: V]) -> (UInt64, V)? {
        guard !d.isEmpty else { return nil }
        let k = d.keys.sorted()[Int(rng.next() % UInt64(d.count))]
        return (k, d[k]!)
    }
    var managed: [UInt64]
    var step = 0
    /// The first difference: the seed, step and both entries.
    var failure: String?
    /// Operations run and quarantines seen.
    var operations = 0
    var quarantines = 0
    /// `KMEMSCOPE_DIFF_DEEP=1`: compare the whole state after every operation (slow).
    static let deep = DifferentialTests.environment["KMEMSCOPE_DIFF_DEEP"] == "1"

    init(seed: UInt64, options: Options) throws {
        self.seed = seed
        self.options = options
        rng = SplitMix64(seed: seed)
        arena = try HostArena.differential(large: options.large, poison: options.poison, hotAdd: options.hotAdd)
        start = try arena.snapshot()
        // Start (a): the state at sequence 0 built from the segments, as "Boot" says.
        model = ModelState.boot(like: start, poisoning: options.poison).state
        model.sequence = start.sequence
        managed = start.segments.flatMap { Array($0.startPFN..<$0.endPFN) }
    }

    var context: String { "seed \(seed) (large \(options.large), poison \(options.poison)) step \(step)" }

    mutating func run(operations count: Int) {
        while step < count && failure == nil {
            // Phases: every 300 steps, 100 steps that mostly allocate (memory pressure).
            let filling = (step / 100) % 3 == 1
            let dice = rng.next() % 100
            if options.poison && rng.next() % 1000 < options.scribbles { scribble() }
            if options.hotAdd && rng.next() % 40 == 0 { hotAdd() }
            switch dice {
            case 0..<(filling ? 60 : 28): allocate(bias: filling ? (options.large ? 4 : 2) : 0)
            case 60..<70 where filling: heapAllocate()
            case 28..<46 where !filling: freeOne()
            case 46..<52 where !filling: allocateSpecific()
            case 52..<56 where !filling: allocateCounted()
            case 56..<60 where !filling: freeCounted()
            case 70..<73: reserve()
            case 73..<75: unreserveOne()
            case 75..<77: drain()
            case 77..<80: reference()
            case 80..<87: heapAllocate()
            case 87..<94: heapFree()
            case 94..<100: misuse()
            default: freeOne()
            }
            step += 1
        }
    }

    // MARK: running one operation on both

    /// Runs `kernel` on KernelMM and `mine` on the model; compares the log entries they wrote.
    @discardableResult
    mutating func both(_ what: String, _ kernel: (PageAllocator) throws(KmemError) -> Void, _ mine: (inout ModelState) -> ModelResult) -> ModelResult {
        let before = arena.sequence
        var threw: KmemError?
        do { try kernel(pa) } catch { threw = error }
        model.log.removeAll(keepingCapacity: true)
        let r = mine(&model)
        operations += 1
        let after = arena.sequence
        let theirs = (before + 1...max(before + 1, after)).compactMap { arena.entry($0) }.filter { $0.sequence <= after }
        quarantines += theirs.filter { $0.kind == .quarantine }.count
        let ours = model.log.sorted { $0.sequence < $1.sequence }
        if let threw, r.status != .misuse, theirs.last?.status != 2 {
            failure = "\(context): \(what): KernelMM threw \(threw.summary) but the model says \(r)"
            return r
        }
        if let d = Self.difference(theirs, ours) {
            failure = "\(context): \(what):\n  kernel: \(d.0)\n  model:  \(d.1)\n  kernel entries: \(theirs.map(\.text))\n  model entries: \(ours.map(\.text))"
        } else if Self.deep, let snapshot = try? arena.snapshot() {
            // Deep mode: the whole state after every operation, to find where states part.
            let c = ModelComparison(model: model, snapshot: snapshot, keep: 8)
            if !c.matches { failure = "\(context): after \(what) (\(ours.map(\.text))) the states differ:\n\(c.text)" }
        }
        return r
    }

    /// The first pair of entries that differ: every field, the result aside when the status is
    /// misuse (nothing was given).
    static func difference(_ k: [OpLogRecord], _ m: [OpLogRecord]) -> (String, String)? {
        for i in 0..<max(k.count, m.count) {
            guard i < k.count else { return ("no entry", m[i].text) }
            guard i < m.count else { return (k[i].text, "no entry") }
            var a = k[i], b = m[i]
            if a.status == 2 { a.result = 0; b.result = 0 }
            if a != b { return (k[i].text + " \(k[i])", m[i].text + " \(m[i])") }
        }
        return nil
    }

    // MARK: operations

    /// `addMemory`: the held-back RAM (added once; again is an overlap), part of it, a range
    /// reaching into managed memory, a hole, an empty range.
    mutating func hotAdd() {
        let held = HostArena.heldBack(large: options.large)
        let start = held.start >> 12, count = (held.end - held.start) >> 12
        let (s, n): (UInt64, UInt64)
        switch rng.next() % 6 {
        case 0, 1: (s, n) = (start, count)
        case 2: (s, n) = (start, count / 2)
        case 3: (s, n) = (start - 4, 8)
        case 4: (s, n) = (0xA0, 4)  // the firmware hole below 1 MiB
        default: (s, n) = (start, 0)
        }
        let r = both("addMemory \(s) \(n)", { (a: PageAllocator) throws(KmemError) in _ = try a.addMemory(start: PFN(s), count: n) }) {
            $0.addMemory(start: s, count: n)
        }
        if r.status == .ok { managed = arena.managedPFNs.map(\.raw) }
    }

    mutating func randomOrder() -> Int {
        var k = 0
        while k < 11 && rng.next() % 3 == 0 { k += 1 }
        return k
    }

    /// An allocation; `bias` raises the order (memory pressure in the filling phases).
    mutating func allocate(bias: Int = 0) {
        let seed = self.seed
        let order = min(11, randomOrder() + bias)
        let mt = Int(rng.next() % 2)
        let zone = Int(rng.next() % 10 < 7 ? 2 : rng.next() % 2)
        let alignment: UInt64 = rng.next() % 5 == 0 ? 1 << UInt64(order + Int(rng.next() % 4)) : 1
        let ignore = rng.next() % 8 == 0
        let request = AllocationRequest(order: order, migratetype: Migratetype(rawValue: UInt8(mt))!,
                                        zone: ZoneConstraint(rawValue: UInt8(zone))!, alignment: alignment, owner: seed, ignoreWatermarks: ignore)
        let r = both("allocate order \(order) mt \(mt) zone \(zone) align \(alignment)", { (a: PageAllocator) throws(KmemError) in _ = try a.allocate(request) }) {
            $0.allocate(order: order, migratetype: mt, zone: zone, alignment: alignment, owner: seed, ignoreWatermarks: ignore)
        }
        if r.status == .ok { live[r.value] = order }
    }

    mutating func freeOne() {
        guard let (p, k) = pick(live) else { return allocate() }
        if refs[p, default: 0] > 0 { return reference(p, get: false) }
        both("free \(p) order \(k)", { (a: PageAllocator) throws(KmemError) in try a.free(PFN(p), order: k) }) { $0.free(p, order: k) }
        live[p] = nil
        freed.append(p)
    }

    mutating func allocateSpecific() {
        let seed = self.seed
        let p = managed.randomElement(using: &rng)!
        let mt = Int(rng.next() % 2)
        let r = both("allocateFrame \(p)", { (a: PageAllocator) throws(KmemError) in
            _ = try a.allocateFrame(PFN(p), migratetype: Migratetype(rawValue: UInt8(mt))!, owner: seed)
        }) { $0.allocateFrame(p, migratetype: mt, owner: seed) }
        if r.status == .ok { live[p] = 0 }
    }

    mutating func reserve() {
        let seed = self.seed
        let p = managed.randomElement(using: &rng)!
        let n = 1 + rng.next() % 8
        let r = both("reserveRange \(p) \(n)", { (a: PageAllocator) throws(KmemError) in _ = try a.reserveRange(start: PFN(p), count: n, owner: seed) }) {
            $0.reserveRange(start: p, count: n, owner: seed)
        }
        if r.status == .ok {
            reserved.append(contentsOf: p..<(p + n))
            reservedRanges.append((p, n))
        }
    }

    /// `unreserve` of a whole reserved range, or (misuse) of part of one and more.
    mutating func unreserveOne() {
        guard !reservedRanges.isEmpty else { return reserve() }
        let (p, n) = reservedRanges.remove(at: Int(rng.next() % UInt64(reservedRanges.count)))
        let wrong = rng.next() % 5 == 0
        let count = wrong ? n + 1 + rng.next() % 4 : n
        let r = both("unreserve \(p) \(count)", { (a: PageAllocator) throws(KmemError) in try a.unreserve(start: PFN(p), count: count) }) {
            $0.unreserve(start: p, count: count)
        }
        if r.status == .ok {
            reserved.removeAll { $0 >= p && $0 < p + count }
        } else {
            reservedRanges.append((p, n))
        }
    }

    /// `get` or `put` of a live block (a put of the last reference frees it).
    mutating func reference() {
        guard let (p, _) = pick(live) else { return allocate() }
        reference(p, get: rng.next() % 2 == 0)
    }

    mutating func reference(_ p: UInt64, get: Bool) {
        let r = both("\(get ? "get" : "put") \(p)", { (a: PageAllocator) throws(KmemError) in _ = get ? try a.get(PFN(p)) : try a.put(PFN(p)) }) {
            get ? $0.get(p) : $0.put(p)
        }
        guard r.status == .ok else { return }
        if get { refs[p, default: 0] += 1 } else if r.value == 0 {
            live[p] = nil
            refs[p] = nil
            freed.append(p)
        } else {
            refs[p, default: 0] -= 1
        }
    }

    /// `allocateCount` of 1…2048 frames (small counts more often).
    mutating func allocateCounted() {
        let seed = self.seed
        let count = rng.next() % 4 == 0 ? 1 + rng.next() % 2048 : 1 + rng.next() % 40
        let mt = Int(rng.next() % 2)
        let zone = Int(rng.next() % 10 < 7 ? 2 : rng.next() % 2)
        let alignment: UInt64 = rng.next() % 5 == 0 ? 1 << (rng.next() % 6) : 1
        let r = both("allocateCount \(count) mt \(mt) zone \(zone) align \(alignment)", { (a: PageAllocator) throws(KmemError) in
            _ = try a.allocateCount(count, migratetype: Migratetype(rawValue: UInt8(mt))!, zone: ZoneConstraint(rawValue: UInt8(zone))!,
                                    alignment: alignment, owner: seed)
        }) { $0.allocateCount(count, migratetype: mt, zone: zone, alignment: alignment, owner: seed) }
        if r.status == .ok { counted[r.value] = count }
    }

    mutating func freeCounted() {
        guard let (p, n) = pick(counted) else { return allocateCounted() }
        both("freeCount \(p) \(n)", { (a: PageAllocator) throws(KmemError) in try a.freeCount(PFN(p), count: n) }) { $0.freeCount(p, count: n) }
        counted[p] = nil
        freedCounted.append((p, n))
    }

    mutating func drain() {
        let z = Int(rng.next() % 3)
        let all = rng.next() % 2 == 0
        both("drain zone \(z) all \(all)", { (a: PageAllocator) throws(KmemError) in try a.drainPerCPU(a.zone(z), all: all) }) {
            $0.drainPerCPU(zone: z, all: all)
        }
    }

    mutating func heapAllocate() {
        let size: UInt64
        switch rng.next() % 10 {
        case 0: size = 2049 + rng.next() % 40000
        case 1: size = 0
        default: size = 1 + rng.next() % 2048
        }
        let alignment: UInt64 = rng.next() % 4 == 0 ? 1 << (rng.next() % 12) : 16
        let r = both("kmalloc \(size) align \(alignment)", { (a: PageAllocator) throws(KmemError) in _ = try a.kmalloc(size: size, alignment: alignment) }) {
            $0.kmalloc(size: size, alignment: alignment)
        }
        if r.status == .ok { objects.append(r.value) }
    }

    mutating func heapFree() {
        guard !objects.isEmpty else { return heapAllocate() }
        let o = objects.remove(at: Int(rng.next() % UInt64(objects.count)))
        both("kfree \(o)", { (a: PageAllocator) throws(KmemError) in try a.kfree(o) }) { $0.kfree(o) }
        freedObjects.append(o)
    }

    /// Misuse: each must be reported (status misuse) and change nothing — the final comparison
    /// and the per-operation entries check both.
    mutating func misuse() {
        let seed = self.seed
        switch rng.next() % 22 {
        case 0:
            guard let p = freed.randomElement(using: &rng), live[p] == nil else { return }
            both("double free \(p)", { (a: PageAllocator) throws(KmemError) in try a.free(PFN(p), order: 0) }) { $0.free(p, order: 0) }
        case 1:
            guard let (p, k) = pick(live) else { return }
            let wrong = k == 11 ? 10 : k + 1
            both("free \(p) with wrong order \(wrong)", { (a: PageAllocator) throws(KmemError) in try a.free(PFN(p), order: wrong) }) { $0.free(p, order: wrong) }
        case 2:
            guard let (p, k) = pick(live), k > 0 else { return }
            both("free of interior frame \(p + 1)", { (a: PageAllocator) throws(KmemError) in try a.free(PFN(p + 1), order: 0) }) { $0.free(p + 1, order: 0) }
        case 3:
            guard let p = reserved.randomElement(using: &rng) else { return }
            both("free of reserved \(p)", { (a: PageAllocator) throws(KmemError) in try a.free(PFN(p), order: 0) }) { $0.free(p, order: 0) }
        case 4:
            guard let o = objects.randomElement(using: &rng) else { return }
            let p = (o - arena.directMap) >> 12
            let k = Int(pa.meta(PFN(p)).pointee.order)
            both("page free of heap page \(p)", { (a: PageAllocator) throws(KmemError) in try a.free(PFN(p), order: k) }) { $0.free(p, order: k) }
        case 5:
            guard let o = freedObjects.randomElement(using: &rng), !objects.contains(o) else { return }
            both("kfree of a free object \(o)", { (a: PageAllocator) throws(KmemError) in try a.kfree(o) }) { $0.kfree(o) }
        case 6:
            let o = arena.directMap + (managed.randomElement(using: &rng)! << 12) + 8
            both("kfree of a foreign address \(o)", { (a: PageAllocator) throws(KmemError) in try a.kfree(o) }) { $0.kfree(o) }
        case 7:
            let request = AllocationRequest(order: 12, owner: seed)
            both("allocate order 12", { (a: PageAllocator) throws(KmemError) in _ = try a.allocate(request) }) {
                $0.allocate(order: 12, migratetype: 0, zone: 2, alignment: 1, owner: seed, ignoreWatermarks: false)
            }
        case 8:
            let request = AllocationRequest(order: 0, alignment: 3, owner: seed)
            both("allocate alignment 3", { (a: PageAllocator) throws(KmemError) in _ = try a.allocate(request) }) {
                $0.allocate(order: 0, migratetype: 0, zone: 2, alignment: 3, owner: seed, ignoreWatermarks: false)
            }
        case 9:
            let p: UInt64 = 0xA0  // the firmware hole below 1 MiB
            both("free outside managed memory", { (a: PageAllocator) throws(KmemError) in try a.free(PFN(p), order: 0) }) { $0.free(p, order: 0) }
        case 10:
            let p = managed.randomElement(using: &rng)!
            both("reserveRange of 0 frames", { (a: PageAllocator) throws(KmemError) in _ = try a.reserveRange(start: PFN(p), count: 0, owner: seed) }) {
                $0.reserveRange(start: p, count: 0, owner: seed)
            }
        case 12:
            both("kmalloc larger than the largest block", { (a: PageAllocator) throws(KmemError) in _ = try a.kmalloc(size: 9 << 20, alignment: 16) }) {
                $0.kmalloc(size: 9 << 20, alignment: 16)
            }
        case 13:
            let alignment: UInt64 = rng.next() % 2 == 0 ? 0 : 24
            both("kmalloc alignment \(alignment)", { (a: PageAllocator) throws(KmemError) in _ = try a.kmalloc(size: 64, alignment: alignment) }) {
                $0.kmalloc(size: 64, alignment: alignment)
            }
        case 14:
            both("kfree(0)", { (a: PageAllocator) throws(KmemError) in try a.kfree(0) }) { $0.kfree(0) }
        case 15:
            guard let p = freed.randomElement(using: &rng), live[p] == nil else { return }
            both("get of a free frame \(p)", { (a: PageAllocator) throws(KmemError) in _ = try a.get(PFN(p)) }) { $0.get(p) }
        case 16:
            guard let o = objects.randomElement(using: &rng) else { return }
            let p = (o - arena.directMap) >> 12
            both("put of heap page \(p)", { (a: PageAllocator) throws(KmemError) in _ = try a.put(PFN(p)) }) { $0.put(p) }
        case 17:
            guard let (p, _) = pick(live), refs[p, default: 0] > 0 else { return }
            let k = live[p]!
            both("free of a block with \(refs[p]! + 1) references", { (a: PageAllocator) throws(KmemError) in try a.free(PFN(p), order: k) }) {
                $0.free(p, order: k)
            }
        case 18:
            guard let (p, n) = freedCounted.randomElement(using: &rng) else { return }
            both("freeCount twice \(p) \(n)", { (a: PageAllocator) throws(KmemError) in try a.freeCount(PFN(p), count: n) }) { $0.freeCount(p, count: n) }
        case 19:
            let p = managed.randomElement(using: &rng)!
            let n: UInt64 = rng.next() % 2 == 0 ? 0 : 2049
            both("freeCount \(p) count \(n)", { (a: PageAllocator) throws(KmemError) in try a.freeCount(PFN(p), count: n) }) { $0.freeCount(p, count: n) }
        case 20:
            let n: UInt64 = rng.next() % 2 == 0 ? 0 : 2049
            let seed = self.seed
            both("allocateCount \(n)", { (a: PageAllocator) throws(KmemError) in _ = try a.allocateCount(n, owner: seed) }) {
                $0.allocateCount(n, migratetype: 0, zone: 2, alignment: 1, owner: seed)
            }
        case 21:
            let p = managed.randomElement(using: &rng)!
            both("unreserve of \(p)", { (a: PageAllocator) throws(KmemError) in try a.unreserve(start: PFN(p), count: 1) }) {
                $0.unreserve(start: p, count: 1)
            }
        default:
            let p: UInt64 = 0xA0
            both("allocateFrame outside managed memory", { (a: PageAllocator) throws(KmemError) in _ = try a.allocateFrame(PFN(p), owner: seed) }) {
                $0.allocateFrame(p, migratetype: 0, owner: seed)
            }
        }
    }

    /// Overwrites one byte of a free or cached frame's poison pattern, and tells the model.
    mutating func scribble() {
        let p = managed.randomElement(using: &rng)!
        let flags = FrameFlags(rawValue: pa.meta(PFN(p)).pointee.flags)
        guard flags.contains(.free) || flags.contains(.pcp), model.poisonOracle.overwritten[p] == nil else { return }
        let offset = rng.next() % 4096
        let byte = UInt8(rng.next() % 0xAA)
        arena.scribble(p, offset: offset, byte: byte)
        model.poisonOracle.overwritten[p] = .init(pfn: p, offset: offset, byte: byte)
    }
}
