import AllocatorView
import BundledState

/// What a replay of the kernel's operation log through the reference model found.
public struct ReplayReport: Sendable {
    /// *illegal*: the kernel's result breaks the contract (a block that is not free, wrong
    /// order, outside the allowed zones, misaligned, a double free accepted, an object handed
    /// out twice, a misuse not reported…); *policy*: legal, but not what the policy chooses.
    public enum Kind: String, Sendable, Equatable { case illegal, policy }

    /// One operation whose logged outcome differs from the model's.
    public struct Divergence: Sendable, Equatable, CustomStringConvertible {
        public var kind: Kind
        /// The top-level operation's sequence, and the entry (it or a nested one) that differs.
        public var sequence: UInt64
        public var entrySequence: UInt64
        /// The operation as `OpLogRecord.text` prints it (the kernel's entry).
        public var operation: String
        /// The kernel's and the model's outcome of the differing entry.
        public var kernel: String
        public var model: String
        /// Frames involved: the kernel's and the model's blocks, the frames a rule was broken on.
        public var frames: [UInt64]
        /// Why it is illegal (the broken rules), or what the policy would have done.
        public var reason: String

        public var description: String {
            "\(kind) divergence at seq \(sequence)" + (entrySequence != sequence ? " (entry \(entrySequence))" : "")
                + ": \(operation)\n  kernel: \(kernel)\n  model:  \(model)\n  frames: "
                + (frames.isEmpty ? "-" : frames.map(hexOrNone).joined(separator: " ")) + "\n  \(reason)"
        }
    }

    /// Why a replay stopped before the end.
    public enum Stop: Sendable, Equatable, CustomStringConvertible {
        /// Status 3: the kernel found corruption and halted at this operation.
        case corrupt(OpLogRecord)
        /// Entries the replay needs were overwritten in the ring (or never read).
        case missing(first: UInt64, last: UInt64, capacity: UInt64)
        /// An entry the model cannot run (unknown kind, or a nested kind at the top level).
        case unreadable(OpLogRecord)

        public var description: String {
            switch self {
            case .corrupt(let r):
                return "stopped at seq \(r.sequence): the kernel found corruption there and halted (\(r.text))"
            case let .missing(first, last, capacity):
                return "stopped: log entries \(first)…\(last) are not in the ring (capacity \(capacity): they were overwritten); "
                    + "replay from a snapshot taken at sequence \(last) or later, or follow the kernel live with `kmemscope watch`"
            case .unreadable(let r): return "stopped at seq \(r.sequence): the model cannot run \(r.text)"
            }
        }
    }

    /// Sequences replayed: from `startSequence + 1` through `endSequence`.
    public var startSequence: UInt64
    public var endSequence: UInt64
    /// Top-level operations replayed, and log entries (nested included) compared.
    public var operations = 0
    public var entries = 0
    public var firstIllegal: Divergence?
    public var firstPolicy: Divergence?
    public var illegalCount = 0
    public var policyCount = 0
    public var stop: Stop?

    public var divergences: Int { illegalCount + policyCount }

    /// What the rule level (``RuleModel``: rules any buddy allocator keeps, judged on every
    /// operation on a state of its own) found.
    public struct RuleLevel: Sendable, Equatable {
        /// Frames the start state held in two classes at once (taken as not free).
        public var conflicts = 0
        /// False when the segments were too wide for the rule level's tables.
        public var judged = true
        /// Operations judged.
        public var operations = 0
        /// Rules broken, and the first few.
        public var broken = 0
        public var first: [RuleModel.Broken] = []
        /// The memory hot-add the rule level stopped at.
        public var stoppedAt: UInt64?

        mutating func add(_ b: [RuleModel.Broken]) {
            broken += b.count
            first += b.prefix(max(0, 8 - first.count))
        }

        public var text: String {
            guard judged else { return "rule level: not judged (the segments span more than 2^24 frames)" }
            var line = "rule level (blocks handed out free, aligned, inside one segment of an allowed zone, above min; frees of allocated blocks at their order): "
                + "\(operations) operations, " + (broken == 0 ? "every rule held" : "\(broken) rules broken, first at seq \(first[0].sequence): \(first[0].rule)")
            if let stoppedAt { line += "; stopped at the memory hot-add of seq \(stoppedAt) (segments and watermarks change)" }
            if conflicts > 0 { line += "; \(conflicts) frames of the start state were in two classes at once (taken as not free)" }
            return line
        }
    }
    public var rules = RuleLevel()

    mutating func add(_ d: Divergence) {
        switch d.kind {
        case .illegal:
            illegalCount += 1
            if firstIllegal == nil { firstIllegal = d }
        case .policy:
            policyCount += 1
            if firstPolicy == nil { firstPolicy = d }
        }
    }

    public var text: String {
        var lines = ["replayed seq \(startSequence + 1)…\(endSequence): \(operations) operations, \(entries) log entries, "
            + "\(illegalCount) illegal and \(policyCount) policy divergences"]
        if let d = firstIllegal { lines.append("first " + d.description) }
        if let d = firstPolicy { lines.append("first " + d.description) }
        if let stop { lines.append(stop.description) }
        lines.append(rules.text)
        return lines.joined(separator: "\n")
    }
}
