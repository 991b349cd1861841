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
