import BundledState

/// Where a session stopped the guest before reading it.
public struct SettlePoint: Sendable, Equatable {
    /// The allocator's sequence number (`KmemState.sequence`) when the reading began.
    public let sequence: UInt64
    /// Whether the guest was known to be between allocator operations (`KmemState.busy == 0`);
    /// false only when the kernel publishes no `BUSY` word.
    public let betweenOperations: Bool
    /// Whether the guest had to run to the end of an operation (`kmem_op_end`) first.
    public let ranToOperationEnd: Bool
    /// On a guest of several CPUs settled CPU by CPU: the CPUs that ran to the end of their
    /// operations (by number), while every other CPU stayed stopped where it was. nil when the
    /// whole guest ran (one CPU, or a guest whose CPUs could not be run one by one) or nothing did.
    public let cpusRun: [Int]?

    /// The BUG the kernel halted at, when it stopped itself: what is read is a post-mortem,
    /// and the guest was not run (it cannot be).
    public let bug: KernelBug?

    /// A settle result (the session makes these; tests compare with them).
    public init(sequence: UInt64, betweenOperations: Bool, ranToOperationEnd: Bool, bug: KernelBug? = nil, cpusRun: [Int]? = nil) {
        self.sequence = sequence
        self.betweenOperations = betweenOperations
        self.ranToOperationEnd = ranToOperationEnd
        self.bug = bug
        self.cpusRun = cpusRun
    }

    /// The line a command prints to standard error: `stopped at sequence N, between operations`.
    public var text: String {
        if let bug {
            return "stopped at sequence \(sequence): " + bug.summary
        }
        guard betweenOperations else {
            return "stopped at sequence \(sequence), possibly inside an allocator operation"
        }
        guard ranToOperationEnd else { return "stopped at sequence \(sequence), between operations" }
        guard let cpus = cpusRun, !cpus.isEmpty else {
            return "stopped at sequence \(sequence), between operations (ran to the end of the operation in progress)"
        }
        let names = cpus.map(String.init).joined(separator: ", ")
        return "stopped at sequence \(sequence), between operations (ran to the end of the "
            + (cpus.count == 1 ? "operation in progress on cpu \(names)" : "operations in progress on cpus \(names)")
            + "; no other CPU moved)"
    }
}
