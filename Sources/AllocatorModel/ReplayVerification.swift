import AllocatorView
import BundledState

extension Replay {
    /// What "the operation log replayed through the reference model gives exactly the state and
    /// results found in guest memory" found: the replay from `start`, and the comparison of the
    /// replayed model with `end` (nil when the replay stopped before reaching it).
    public struct Verification: Sendable {
        public var replay: ReplayReport
        public var comparison: ModelComparison?
        /// Why the final state was not compared, when it was not.
        public var note: String?

        /// Frames free in memory but not by the log's rules, or the other way round (rule level),
        /// with the first few; nil when not compared (the replay stopped, or the rule level did).
        public var ruleDifferences: (count: Int, first: [(pfn: UInt64, rules: String, memory: String)])?

        public var passed: Bool {
            replay.divergences == 0 && replay.stop == nil && comparison?.matches == true && (ruleDifferences?.count ?? 0) == 0
        }

        public var text: String {
            var lines = [replay.text, comparison.map { "final state: " + $0.text } ?? "final state: not compared (\(note ?? "the replay stopped"))"]
            if let d = ruleDifferences {
                lines.append(d.count == 0 ? "rule level: the frames free in memory are exactly the frames the log left free"
                    : "rule level: \(d.count) frames differ between memory's free lists and what the log left free: "
                        + d.first.map { "\(hexOrNone($0.pfn)) (log: \($0.rules), memory: \($0.memory))" }.joined(separator: ", "))
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Replays `log` from snapshot `start` through `end`'s sequence and compares the result with
    /// `end`. The ring's capacity comes from the snapshots when they carry it.
    /// A snapshot taken mid-operation (`busy` ≠ 0) is compared only up to the operations that
    /// ended: the running one has not written its entry, and its changes are half made, so the
    /// final comparison is skipped and `note` says to continue the guest to `kmem_op_end`.
    public static func verify(from start: KernelSnapshot, to end: KernelSnapshot, log: [OpLogRecord]) -> Verification {
        let replay = Replay(capacity: end.opLogCapacity ?? start.opLogCapacity ?? 65536)
        let (report, state, rules) = replay.judged(from: ModelState(snapshot: start), log: log, through: end.sequence)
        if let busy = end.busy, busy != 0 {
            return Verification(replay: report, comparison: nil,
                                note: "the guest stopped inside an operation (busy \(busy)): continue it to kmem_op_end for a consistent state")
        }
        let comparison = report.stop == nil ? ModelComparison(model: state, snapshot: end) : nil
        var verification = Verification(replay: report, comparison: comparison)
        if report.stop == nil, let rules, rules.stoppedAt == nil {
            verification.ruleDifferences = rules.differences(from: ModelState(snapshot: end))
        }
        return verification
    }
}
