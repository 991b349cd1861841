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
