import BundledState

/// `verify --replay` of a kernel halted at its BUG: the log replayed from the boot up to the
/// operation before the one in progress (whose changes are half made and whose entry may not be
/// written), whether that was clean, and the model at that point compared with guest memory:
/// the differences are what the operation in progress had done, or — on frames it did not
/// touch — corruption no operation explains.
public struct PostMortemReplay: Sendable {
    /// The replay up to ``through``.
    public var replay: ReplayReport
    /// The last operation replayed (the one before the operation in progress).
    public var through: UInt64
    /// The model after ``through`` compared with guest memory at the halt (nil when the replay stopped).
    public var comparison: ModelComparison?
    /// Where the operation in progress began.
    public var inProgressFrom: UInt64

    /// Whether the state before the operation in progress was clean: the log up to it replays
    /// through the reference model with no divergence and no stop.
    public var cleanBefore: Bool { replay.divergences == 0 && replay.stop == nil }

    /// Replays `log` from the boot state `snapshot` describes, through the operation before
    /// `operationsInProgress` (verify's `PostMortem.operations`), or through the snapshot's
    /// sequence when the BUG is about no operation (nil).
    public init(_ snapshot: KernelSnapshot, log: [OpLogRecord], operationsInProgress: ClosedRange<UInt64>?) {
        // sequences are guest data: the last one there is, or an operation at 0, must not trap
        let from = operationsInProgress?.lowerBound ?? (snapshot.sequence == .max ? .max : snapshot.sequence + 1)
        inProgressFrom = from
        through = from == 0 ? 0 : from - 1
        let (start, _) = ModelState.boot(like: snapshot, poisoning: snapshot.poisoning ?? false, log: log)
        let (report, state) = Replay(capacity: snapshot.opLogCapacity ?? 65536).run(from: start, log: log, through: through)
        replay = report
        comparison = report.stop == nil ? ModelComparison(model: state, snapshot: snapshot) : nil
    }

    /// The differences in three groups: frames the operation in progress changed (its work),
    /// frames no operation since ``through`` changed (corruption no operation explains), and
    /// lists and counters (the operation's half-made changes or the corruption's effects).
    public var split: (byOperation: [ModelComparison.Difference], unexplained: [ModelComparison.Difference],
                       listsAndCounters: [ModelComparison.Difference]) {
        let all = comparison?.differences ?? []
        let frames = all.filter { $0.what.hasPrefix("frame ") }
        let by = frames.filter { ($0.lastSeq ?? 0) >= inProgressFrom }
        let other = frames.filter { ($0.lastSeq ?? 0) < inProgressFrom }
        return (by, other, all.filter { !$0.what.hasPrefix("frame ") })
    }

    /// The report's lines.
    public var text: String {
        var lines = ["replay up to seq \(through), the operation before the one in progress: " + replay.text,
                     cleanBefore ? "the state before the operation in progress was clean (the log replays with no divergence)"
                                 : "the state before the operation in progress was NOT clean (see the divergences above)"]
        guard let comparison else {
            lines.append("what the operation in progress had done: not compared (the replay stopped)")
            return lines.joined(separator: "\n")
        }
        let (by, other, lists) = split
        lines.append("what the operation in progress (from seq \(inProgressFrom)) had done, model at seq \(through) against guest memory at the halt: "
                     + "\(comparison.count) difference(s): \(by.count) on frames it changed, \(other.count) on frames no operation since seq \(through) changed, "
                     + "\(lists.count) in lists and counters"
                     + (comparison.count > comparison.differences.count ? " (first \(comparison.differences.count) shown)" : ""))
        lines += by.prefix(16).map { "  done by the operation in progress: \($0)" }
        lines += other.prefix(16).map { "  no operation explains (corruption from before it): \($0)" }
        lines += lists.prefix(16).map { "  lists and counters (its unfinished work or the corruption's effect): \($0)" }
        return lines.joined(separator: "\n")
    }
}
