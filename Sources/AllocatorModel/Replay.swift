import AllocatorView
import BundledState

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
    /// Copies of the state kept at least this many operations apart, to undo an operation that
    /// diverged. A copy costs in proportion to the frames (the PFN tables' index), so a bigger
    /// state is copied less often: every `frames` operations (at most 65,536, the ring's default
    /// size), which keeps the copy a few bytes per operation; an undo replays at most that many.
    public var checkpointInterval = 512

    public init(capacity: UInt64 = 65536) { self.capacity = capacity }

    /// Replays `log` (any order; entries of other sequences are ignored) from `start` through
    /// sequence `end` (default: the last entry). Returns the report and the model's final state.
    ///
    /// Speed (issue 12 asks for ≥ 1 M operations per second): the entries are sorted once and
    /// walked with a cursor, an operation's entries are a slice of them (no copy), and the judge
    /// (`brokenRules`) runs only for an operation that diverged — on the state before it, which
    /// the undo rebuilds anyway — since its verdict is only ever read there.
    public func run(from start: ModelState, log: [OpLogRecord], through end: UInt64? = nil) -> (report: ReplayReport, state: ModelState) {
        let (report, state, _) = judged(from: start, log: log, through: end)
        return (report, state)
    }

    /// ``run(from:log:through:)``, also returning the rule level's final state (nil when the
    /// segments were too wide to judge), which ``verify(from:to:log:)`` compares with memory.
    public func judged(from start: ModelState, log: [OpLogRecord], through end: UInt64? = nil)
        -> (report: ReplayReport, state: ModelState, rules: RuleModel?) {
        var rules = RuleModel(start)
        let entries = Self.inSequence(log, after: start.sequence)
        var oracle = PoisonOracle()
        for r in entries where r.kind == .quarantine {
            oracle.logged[r.parent, default: []].append(.init(pfn: r.address, offset: r.size, byte: UInt8(truncatingIfNeeded: r.result)))
        }
        let last = end ?? entries.last?.sequence ?? start.sequence
        var report = ReplayReport(startSequence: start.sequence, endSequence: last)
        report.rules = ReplayReport.RuleLevel(conflicts: rules?.conflicts ?? 0, judged: rules != nil)
        var model = start
        // a start at the last sequence there is (guest data: KmemState.sequence) has nothing after it
        guard start.sequence < UInt64.max else { return (report, model, rules) }
        // Quarantines happen exactly where the kernel logged them.
        model.poisoning = true
        model.poisonOracle = oracle
        model.keepsLog = true
        model.log.removeAll()
        var checkpoint = model
        // Positions in the replay order's groups of the operations run since the checkpoint.
        var sinceCheckpoint: [Int] = []
        let frames = start.segments.reduce(UInt64(0)) { $0 &+ ($1.endPFN &- $1.startPFN) }
        let interval = max(checkpointInterval, Int(min(frames, 65536)))

        // The operations in the order they are applied (ReplayOrder): each with its nested
        // ones, by the sequence of its last entry (one CPU, or turns: sequence order).
        let order = ReplayOrder(entries, after: start.sequence, through: last)
        let ordered = order.entries
        // Runs group `g` on the model: its nested operations take the kernel's numbers.
        func apply(_ g: Range<Int>, to model: inout ModelState) {
            let top = ordered[g.lowerBound]
            let key = ordered[g.upperBound - 1].sequence
            model.sequence = top.sequence - 1
            if key - top.sequence != UInt64(g.count - 1) { model.plannedSequences = ArraySlice(ordered[g].map(\.sequence)) }
            model.cpu = Int(top.cpu) % ModelState.maxCPUs
            model.apply(ModelOperation(top)!)
            model.plannedSequences = []
        }
        var replayed = start.sequence
        var stopped = false
        for (gi, g) in order.groups.enumerated() {
            let top = ordered[g.lowerBound]
            let seq = top.sequence
            let key = ordered[g.upperBound - 1].sequence
            if top.status == ModelStatus.corrupt.rawValue {
                report.stop = .corrupt(top)
                report.endSequence = replayed
                stopped = true
                break
            }
            guard top.parent == 0, ModelOperation(top) != nil else {
                report.stop = .unreadable(top)
                report.endSequence = replayed
                stopped = true
                break
            }
            if let bad = ordered[g].dropFirst().first(where: { $0.status == ModelStatus.corrupt.rawValue }) {
                report.stop = .corrupt(bad)
                report.endSequence = replayed
                stopped = true
                break
            }
            let group = ordered[g]
            // The model's entries of this operation are the ones it appends from `mark` on (the
            // log is emptied now and then, not per operation).
            if model.log.count > 4096 { model.log.removeAll(keepingCapacity: true) }
            let mark = model.log.count
            apply(g, to: &model)
            report.operations += 1
            report.entries += group.count
            // The rule level judges every operation on its own state, then follows the kernel.
            if rules != nil && rules?.stoppedAt == nil { report.rules.operations += 1 }
            let ruleBroken = rules?.step(group) ?? []
            report.rules.add(ruleBroken)
            if let stopped = rules?.stoppedAt, report.rules.stoppedAt == nil { report.rules.stoppedAt = stopped }
            let ruleReasons = ruleBroken.map { "rule level: " + $0.rule }
            if let (k, m) = Self.firstDifference(kernel: group, model: model.log[mark...]) {
                // Undo: back to the checkpoint, forward to just before this operation; judge the
                // kernel's outcome there, then go the kernel's way.
                model = checkpoint
                for x in sinceCheckpoint {
                    apply(order.groups[x], to: &model)
                    model.sequence = ordered[order.groups[x].upperBound - 1].sequence
                }
                model.sequence = seq - 1
                let broken = model.brokenRules(group)
                let misuseMismatch = (k?.status == ModelStatus.misuse.rawValue) != (m?.status == ModelStatus.misuse.rawValue)
                let illegal = !broken.reasons.isEmpty || misuseMismatch || !ruleReasons.isEmpty
                var reasons = broken.reasons + ruleReasons
                if misuseMismatch {
                    reasons.append(k?.status == ModelStatus.misuse.rawValue ? "the kernel reported misuse for a legal operation"
                                                                            : "a misuse the kernel did not report")
                }
                if reasons.isEmpty { reasons.append("legal, but the policy chooses otherwise") }
                report.add(ReplayReport.Divergence(
                    kind: illegal ? .illegal : .policy, sequence: seq, entrySequence: k?.sequence ?? m?.sequence ?? seq,
                    operation: (k ?? top).text, kernel: k.map(Self.outcome) ?? "no such entry", model: m.map(Self.outcome) ?? "no such entry",
                    frames: Self.frames(k) + Self.frames(m) + broken.frames + ruleBroken.map(\.frame), reason: reasons.joined(separator: "; ")))
                model.follow(group)
                checkpoint = model
                sinceCheckpoint.removeAll()
            } else {
                if !ruleBroken.isEmpty {
                    // The kernel and the reference model agree, and both break a rule any buddy
                    // allocator keeps: a mistake the two transcriptions of the contract share.
                    report.add(ReplayReport.Divergence(
                        kind: .illegal, sequence: seq, entrySequence: ruleBroken[0].sequence, operation: top.text,
                        kernel: "as the model", model: "as the kernel", frames: ruleBroken.map(\.frame),
                        reason: (ruleReasons + ["the reference model did the same: kernel/README.md, or both transcriptions of it, allow what no buddy allocator may do"])
                            .joined(separator: "; ")))
                }
                sinceCheckpoint.append(gi)
                if sinceCheckpoint.count >= interval {
                    checkpoint = model
                    sinceCheckpoint.removeAll(keepingCapacity: true)
                }
            }
            model.sequence = key
            replayed = key
        }
        if !stopped, let gap = order.missing {
            report.stop = .missing(first: gap.first, last: gap.last, capacity: capacity)
            report.endSequence = gap.first - 1
        }
        model.log.removeAll()
        model.poisonOracle = .none
        return (report, model, rules)
    }

    /// The entries of `log` after sequence `start`, sorted by sequence; of two entries with the
    /// same sequence the later one in `log` is kept.
    static func inSequence(_ log: [OpLogRecord], after start: UInt64) -> [OpLogRecord] {
        // As the decoders read the ring: already in order (and then usually all after `start`).
        if zip(log, log.dropFirst()).allSatisfy({ $0.sequence < $1.sequence }) {
            return log.first.map { $0.sequence > start } ?? true ? log : log.filter { $0.sequence > start }
        }
        var positions = log.indices.filter { log[$0].sequence > start }
        positions.sort { (log[$0].sequence, $0) < (log[$1].sequence, $1) }
        var entries: [OpLogRecord] = []
        entries.reserveCapacity(positions.count)
        for p in positions {
            if let previous = entries.last, previous.sequence == log[p].sequence {
                entries[entries.count - 1] = log[p]
            } else {
                entries.append(log[p])
            }
        }
        return entries
    }

    /// The first entry (by sequence) whose outcome differs, kernel's and model's.
    static func firstDifference(kernel: ArraySlice<OpLogRecord>, model: ArraySlice<OpLogRecord>) -> (OpLogRecord?, OpLogRecord?)? {
        // The common case without building anything: as many entries, and each of the kernel's
        // matched by the model's of its sequence (sequences are unique on both sides).
        if kernel.count == model.count, kernel.allSatisfy({ k in model.contains { $0.sequence == k.sequence && same(k, $0) } }) {
            return nil
        }
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
        return "\(r.kind?.name ?? "kind \(r.rawKind)") \(status) result \(hexOrNone(r.result))"
            + (r.kind == .allocate ? " (order \(r.order))" : r.kind == .free || r.kind == .quarantine ? " pfn \(hexOrNone(r.address))" : "")
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
