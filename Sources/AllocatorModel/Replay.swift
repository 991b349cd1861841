/// Replays the kernel's operation log through the reference model ("Operation log" of
/// kernel/README.md): every top-level entry, in sequence order, is run by the model, whose
/// own entries (the operation and the ones nested in it: a kmalloc's page allocation, a
/// kfree's page free, a quarantine inside an allocation) are compared with the kernel's.
///
/// The kernel's `quarantine` entries are the model's oracle for page poisoning: when a frame
/// the model would hand out was quarantined by the kernel in that operation, the model
/// quarantines it and starts the allocation again, as the contract says.
///
/// After a divergence the model follows the kernel: the operation is undone and the kernel's
/// outcome applied instead (exactly the block the kernel took), so one difference does not
/// cascade.
public struct Replay: Sendable {
    /// Ring capacity of the log (entries older than `sequence − capacity` are overwritten).
    public var capacity: UInt64 = 65536
    /// Copies of the state kept this many operations apart, to undo an operation that diverged.
    public var checkpointInterval = 512

    public init(capacity: UInt64 = 65536) { self.capacity = capacity }

    /// Replays `log` (any order; entries of other sequences are ignored) from `start` through
    /// sequence `end` (default: the last entry). Returns the report and the model's final state.
    public func run(from start: ModelState, log: [OpLogRecord], through end: UInt64? = nil) -> (report: ReplayReport, state: ModelState) {
        var bySequence: [UInt64: OpLogRecord] = [:]
        var oracle = PoisonOracle()
        for r in log where r.sequence > start.sequence {
            bySequence[r.sequence] = r
        }
        for s in bySequence.keys.sorted() {
            let r = bySequence[s]!
            if r.kind == .quarantine {
                oracle.logged[r.parent, default: []].append(.init(pfn: r.address, offset: r.size, byte: UInt8(truncatingIfNeeded: r.result)))
            }
        }
        let last = end ?? bySequence.keys.max() ?? start.sequence
        var report = ReplayReport(startSequence: start.sequence, endSequence: last)
        var model = start
        // Quarantines happen exactly where the kernel logged them.
        model.poisoning = true
        model.poisonOracle = oracle
        model.keepsLog = true
        model.log.removeAll()
        var checkpoint = model
        var sinceCheckpoint: [OpLogRecord] = []

        var seq = start.sequence + 1
        while seq <= last {
            guard let top = bySequence[seq] else {
                var gapEnd = seq
                while gapEnd < last && bySequence[gapEnd + 1] == nil { gapEnd += 1 }
                report.stop = .missing(first: seq, last: gapEnd, capacity: capacity)
                report.endSequence = seq - 1
                break
            }
            if top.status == ModelStatus.corrupt.rawValue {
                report.stop = .corrupt(top)
                report.endSequence = seq - 1
                break
            }
            guard top.parent == 0, let op = ModelOperation(top) else {
                report.stop = .unreadable(top)
                report.endSequence = seq - 1
                break
            }
            // The kernel's entries of this operation: it and everything up to the next top-level one.
            var group = [top]
            var next = seq + 1
            while next <= last, let r = bySequence[next], r.parent != 0 {
                if r.status == ModelStatus.corrupt.rawValue { break }
                group.append(r)
                next += 1
            }
            if next <= last, let r = bySequence[next], r.parent != 0, r.status == ModelStatus.corrupt.rawValue {
                report.stop = .corrupt(r)
                report.endSequence = seq - 1
                break
            }
            let broken = model.brokenRules(group)
            model.log.removeAll(keepingCapacity: true)
            model.sequence = seq - 1
            model.apply(op)
            let mine = model.log
            report.operations += 1
            report.entries += group.count
            if let (k, m) = Self.firstDifference(kernel: group, model: mine) {
                let misuseMismatch = (k?.status == ModelStatus.misuse.rawValue) != (m?.status == ModelStatus.misuse.rawValue)
                let illegal = !broken.reasons.isEmpty || misuseMismatch
                var reasons = broken.reasons
                if misuseMismatch {
                    reasons.append(k?.status == ModelStatus.misuse.rawValue ? "the kernel reported misuse for a legal operation"
                                                                            : "a misuse the kernel did not report")
                }
                if reasons.isEmpty { reasons.append("legal, but the policy chooses otherwise") }
                report.add(ReplayReport.Divergence(
                    kind: illegal ? .illegal : .policy, sequence: seq, entrySequence: k?.sequence ?? m?.sequence ?? seq,
                    operation: (k ?? top).text, kernel: k.map(Self.outcome) ?? "no such entry", model: m.map(Self.outcome) ?? "no such entry",
                    frames: Self.frames(k) + Self.frames(m) + broken.frames, reason: reasons.joined(separator: "; ")))
                // Undo: back to the checkpoint, forward to just before this operation, then the kernel's way.
                model = checkpoint
                for r in sinceCheckpoint {
                    model.sequence = r.sequence - 1
                    model.apply(ModelOperation(r)!)
                }
                model.follow(group)
                checkpoint = model
                sinceCheckpoint.removeAll()
            } else {
                sinceCheckpoint.append(top)
                if sinceCheckpoint.count >= checkpointInterval {
                    checkpoint = model
                    sinceCheckpoint.removeAll()
                }
            }
            model.sequence = next - 1
            seq = next
        }
        model.log.removeAll()
        model.poisonOracle = .none
        return (report, model)
    }

    /// The first entry (by sequence) whose outcome differs, kernel's and model's.
    static func firstDifference(kernel: [OpLogRecord], model: [OpLogRecord]) -> (OpLogRecord?, OpLogRecord?)? {
        var k: [UInt64: OpLogRecord] = [:]
        var m: [UInt64: OpLogRecord] = [:]
        for r in kernel { k[r.sequence] = r }
        for r in model { m[r.sequence] = r }
        for s in Set(k.keys).union(m.keys).sorted() where !same(k[s], m[s]) { return (k[s], m[s]) }
        return nil
    }

    /// Whether two entries record the same operation and outcome. The result is compared when
    /// something was done or refused (a misuse's result word carries nothing).
    static func same(_ a: OpLogRecord?, _ b: OpLogRecord?) -> Bool {
        guard let a, let b else { return false }
        guard a.rawKind == b.rawKind, a.status == b.status, (a.parent == 0) == (b.parent == 0) else { return false }
        if a.status <= ModelStatus.failed.rawValue && a.result != b.result { return false }
        switch a.kind {
        case .allocate, .allocateCount:
            return a.order == b.order && a.migratetype == b.migratetype && a.zone == b.zone && a.alignment == b.alignment && a.owner == b.owner
        case .free: return a.address == b.address && a.order == b.order
        case .quarantine: return a.address == b.address && a.size == b.size
        default: return true
        }
    }

    static func outcome(_ r: OpLogRecord) -> String {
        let status = ModelStatus(rawValue: r.status)?.description ?? "status \(r.status)"
        return "\(r.kind?.name ?? "kind \(r.rawKind)") \(status) result \(hex(r.result))"
            + (r.kind == .allocate ? " (order \(r.order))" : r.kind == .free || r.kind == .quarantine ? " pfn \(hex(r.address))" : "")
    }

    static func frames(_ r: OpLogRecord?) -> [UInt64] {
        guard let r else { return [] }
        switch r.kind {
        case .allocate, .allocateCount: return r.status == 0 ? [r.result] : []
        case .free, .allocateFrame, .reserveRange, .quarantine, .get, .put, .freeCount, .unreserve: return [r.address]
        default: return []
        }
    }
}

// MARK: legality ("illegal": the kernel's outcome breaks the contract)

extension ModelState {
    /// The contract rules the kernel's entries of one operation break, judged on the state before it.
    func brokenRules(_ group: [OpLogRecord]) -> (reasons: [String], frames: [UInt64]) {
        var reasons: [String] = []
        var frames: [UInt64] = []
        func broken(_ why: String, _ p: UInt64) {
            reasons.append(why)
            frames.append(p)
        }
        var takenHere: Set<UInt64> = []
        for r in group where r.status == ModelStatus.ok.rawValue {
            switch r.kind {
            case .allocate, .allocateCount:
                let k = Int(r.order), p = r.result
                guard k <= Self.maxOrder else { broken("an order-\(k) block (orders are 0…11)", p); continue }
                let n = Self.pages(k)
                if p % n != 0 { broken("block \(hex(p)) is not aligned to its order \(k)", p) }
                if r.alignment != 0 && p % r.alignment != 0 { broken("block \(hex(p)) is not aligned to \(r.alignment) pages", p) }
                guard let s = segmentIndex(of: p), segments[s].contains(p + n - 1) else {
                    broken("block \(hex(p)) order \(k) is not inside one segment", p); continue
                }
                if segments[s].zone > Int(r.zone) { broken("block \(hex(p)) is in zone \(segments[s].zone), above the constraint \(r.zone)", p) }
                if let bad = (p..<(p + n)).first(where: { !isTakable($0) || takenHere.contains($0) }) {
                    broken("frame \(hex(bad)) of block \(hex(p)) is not free (\(frameView(bad)))", bad)
                }
                takenHere.formUnion(p..<(p + n))
            case .free:
                if let m = checkFree(r.address, order: Int(r.order), byHeap: r.parent != 0) { broken("\(m.what) accepted", r.address) }
            case .allocateFrame:
                if !isTakable(r.address) { broken("claimed frame \(hex(r.address)), which is not free (\(frameView(r.address)))", r.address) }
            case .reserveRange:
                if r.size < 1 << 24, let bad = (r.address..<(r.address &+ r.size)).first(where: { !isTakable($0) }) {
                    broken("reserved frame \(hex(bad)), which is not free (\(frameView(bad)))", bad)
                }
            case .quarantine:
                if !isTakable(r.address) { broken("quarantined frame \(hex(r.address)), which is not free (\(frameView(r.address)))", r.address) }
            case .heapAllocate:
                let grew = group.contains { $0.kind == .allocate && $0.parent != 0 && $0.status == 0 }
                let pfn = (r.result &- heap.directMap) / Self.pageSize
                if !grew {
                    let free = heap.slabs[pfn]?.free.contains(r.result) ?? false
                    if !free { broken("object \(hex(r.result)) handed out while not free", pfn) }
                    else if let slab = heap.slabs[pfn], heap.caches[slab.cache].objectSize < max(r.size, 1, r.alignment) {
                        broken("object \(hex(r.result)) of \(heap.caches[slab.cache].objectSize) bytes for \(max(r.size, 1, r.alignment))", pfn)
                    }
                }
            case .heapFree:
                if let why = kfreeMisuse(r.address) { broken("\(why) accepted", (r.address &- heap.directMap) / Self.pageSize) }
            case .get, .put:
                if let why = referenceMisuse(r.address, adding: r.kind == .get) { broken("\(r.kind!.name) of \(hex(r.address)): \(why), accepted", r.address) }
            case .freeCount:
                if r.size >= 1 && r.size <= Self.pages(Self.maxOrder) && r.address <= UInt64.max - r.size {
                    for (p, k) in Self.maximalBlocks(r.address, r.address + r.size) {
                        if let m = checkFree(p, order: k, byHeap: false) { broken("\(m.what) accepted (piece \(hex(p)) order \(k))", p) }
                    }
                } else {
                    broken("a count of \(r.size) accepted", r.address)
                }
            case .unreserve:
                if r.size < 1 << 24, let bad = (r.address..<(r.address &+ r.size)).first(where: { reserved[$0].map { $0.quarantined } ?? true }) {
                    broken("unreserved frame \(hex(bad)), which is not reserved (\(frameView(bad)))", bad)
                }
            default: break
            }
        }
        return (reasons, frames)
    }

    // MARK: following the kernel

    /// Applies the kernel's outcome of one operation (its entries) instead of the model's.
    mutating func follow(_ group: [OpLogRecord]) {
        keepsLog = false
        defer { keepsLog = true }
        let top = group[0]
        for r in group where r.kind == .quarantine && r.status == 0 && isTakable(r.address) {
            take(r.address)
            reserved[r.address] = ReservedFrame(owner: Self.quarantineOwner, quarantined: true, lastSeq: r.sequence)
            let s = segmentIndex(of: r.address)!
            segments[s].reservedPages += 1
            zones[segments[s].zone].reservedPages += 1
        }
        for r in group where r.kind == .allocate && r.parent != 0 && r.status == 0 {
            guard forceAllocate(r) else { continue }
            if r.owner >= Self.slabOwnerBase && r.owner < Self.slabOwnerBase + UInt64(heap.caches.count) {
                let c = Int(r.owner - Self.slabOwnerBase)
                allocated[r.result]?.slab = true
                let base = heap.address(of: r.result)
                heap.slabs[r.result] = ModelHeap.Slab(cache: c, free: (0..<heap.caches[c].objectsPerSlab).map { base + $0 * heap.caches[c].objectSize }, inUse: 0)
                heap.caches[c].partial.insert(r.result, at: 0)
            } else if r.owner == Self.largeHeapOwner {
                heap.large[r.result] = Int(r.order)
            }
        }
        guard top.status == 0, let op = ModelOperation(top) else { return }
        switch op {
        case .allocate: forceAllocate(top)
        case let .allocateCount(count, mt, _, _, owner):
            if forceAllocate(top) { keep(count, of: top.result, order: Int(top.order), mt: mt, owner: owner, seq: top.sequence) }
        case .free, .allocateFrame, .reserveRange, .drainPerCPU, .kfree, .unreserve, .get, .put, .freeCount:
            // These have one legal outcome: the model's own, when the kernel's was legal.
            let pre = brokenRules([top])
            if pre.reasons.isEmpty { apply(op) }
        case .kmalloc:
            let a = top.result
            let pfn = (a &- heap.directMap) / Self.pageSize
            guard var slab = heap.slabs[pfn], let i = slab.free.firstIndex(of: a) else { return }
            slab.free.remove(at: i)
            slab.inUse += 1
            heap.slabs[pfn] = slab
            heap.caches[slab.cache].inUse += 1
            if slab.free.isEmpty {
                heap.caches[slab.cache].partial.removeAll { $0 == pfn }
                heap.caches[slab.cache].full.insert(pfn, at: 0)
            }
        }
    }

    /// Takes exactly the block an allocate entry names, if all its frames are free or cached.
    @discardableResult
    mutating func forceAllocate(_ r: OpLogRecord) -> Bool {
        let k = Int(r.order), p = r.result
        guard k <= Self.maxOrder, r.status == 0 else { return false }
        let range = p..<(p + Self.pages(k))
        guard let s = segmentIndex(of: p), segments[s].contains(range.upperBound - 1), range.allSatisfy(isTakable) else { return false }
        carve(range, segment: s)
        allocated[p] = AllocatedBlock(order: k, migratetype: Int(r.migratetype), owner: r.owner, lastSeq: r.sequence)
        zones[segments[s].zone].allocatedPages += Self.pages(k)
        return true
    }

    /// Takes every frame of `range` (all free or cached) out of the lists; the parts of free
    /// blocks outside it go back as aligned blocks of their list.
    mutating func carve(_ range: Range<UInt64>, segment s: Int) {
        var p = range.lowerBound
        while p < range.upperBound {
            if cached[p] != nil {
                removeCached(p)
                p += 1
                continue
            }
            let head = freeHead(containing: p)!
            let b = freeBlocks[head]!
            unlinkFree(head, segment: s)
            func give(_ h: UInt64, _ k: Int) {
                let end = h + Self.pages(k)
                if end <= range.lowerBound || h >= range.upperBound { pushFree(h, order: k, mt: b.migratetype, segment: s) }
                else if h < range.lowerBound || end > range.upperBound { give(h, k - 1); give(h + Self.pages(k - 1), k - 1) }
            }
            give(head, b.order)
            p = min(head + Self.pages(b.order), range.upperBound)
        }
    }
}

extension Replay {
    /// What "the operation log replayed through the reference model gives exactly the state and
    /// results found in guest memory" found: the replay from `start`, and the comparison of the
    /// replayed model with `end` (nil when the replay stopped before reaching it).
    public struct Verification: Sendable {
        public var replay: ReplayReport
        public var comparison: ModelComparison?
        /// Why the final state was not compared, when it was not.
        public var note: String?

        public var passed: Bool { replay.divergences == 0 && replay.stop == nil && comparison?.matches == true }

        public var text: String {
            [replay.text, comparison.map { "final state: " + $0.text } ?? "final state: not compared (\(note ?? "the replay stopped"))"]
                .joined(separator: "\n")
        }
    }

    /// Replays `log` from snapshot `start` through `end`'s sequence and compares the result with
    /// `end`. The ring's capacity comes from the snapshots when they carry it.
    /// A snapshot taken mid-operation (`busy` ≠ 0) is compared only up to the operations that
    /// ended: the running one has not written its entry, and its changes are half made, so the
    /// final comparison is skipped and `note` says to continue the guest to `kmem_op_end`.
    public static func verify(from start: KernelSnapshot, to end: KernelSnapshot, log: [OpLogRecord]) -> Verification {
        let replay = Replay(capacity: end.opLogCapacity ?? start.opLogCapacity ?? 65536)
        let (report, state) = replay.run(from: ModelState(snapshot: start), log: log, through: end.sequence)
        if let busy = end.busy, busy != 0 {
            return Verification(replay: report, comparison: nil,
                                note: "the guest stopped inside an operation (busy \(busy)): continue it to kmem_op_end for a consistent state")
        }
        let comparison = report.stop == nil ? ModelComparison(model: state, snapshot: end) : nil
        return Verification(replay: report, comparison: comparison)
    }
}
