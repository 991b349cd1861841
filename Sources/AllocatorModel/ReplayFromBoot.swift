import BundledState

/// `verify --replay`: the operation log replayed from the boot state (rebuilt from the
/// snapshot's segments as the kernel's boot hands memory to the buddy lists) through the
/// reference model, then the model compared with the snapshot.
public enum ReplayFromBoot {
    public static func verify(_ snapshot: KernelSnapshot, log: [OpLogRecord]) -> Replay.Verification {
        let (start, disagreements) = ModelState.boot(like: snapshot, poisoning: snapshot.poisoning ?? false, log: log)
        let replay = Replay(capacity: snapshot.opLogCapacity ?? 65536)
        let (report, state, rules) = replay.judged(from: start, log: log, through: snapshot.sequence)
        if let busy = snapshot.busy, busy != 0 {
            return Replay.Verification(replay: report, comparison: nil,
                                       note: "the guest stopped inside an operation (busy \(busy)): continue it to kmem_op_end for a consistent state")
        }
        var v = Replay.Verification(replay: report, comparison: report.stop == nil ? ModelComparison(model: state, snapshot: snapshot) : nil)
        if report.stop == nil, let rules, rules.stoppedAt == nil { v.ruleDifferences = rules.differences(from: ModelState(snapshot: snapshot)) }
        if !disagreements.isEmpty { v.note = "boot parameters differ from the contract's formulas: " + disagreements.joined(separator: "; ") }
        return v
    }
}
