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

    /// The BUG the kernel halted at, when it stopped itself: what is read is a post-mortem,
    /// and the guest was not run (it cannot be).
    public let bug: KernelBug?

    /// A settle result (the session makes these; tests compare with them).
    public init(sequence: UInt64, betweenOperations: Bool, ranToOperationEnd: Bool, bug: KernelBug? = nil) {
        self.sequence = sequence
        self.betweenOperations = betweenOperations
        self.ranToOperationEnd = ranToOperationEnd
        self.bug = bug
    }

    /// The line a command prints to standard error: `stopped at sequence N, between operations`.
    public var text: String {
        if let bug {
            return "stopped at sequence \(sequence): " + bug.summary
        }
        guard betweenOperations else {
            return "stopped at sequence \(sequence), possibly inside an allocator operation"
        }
        return "stopped at sequence \(sequence), between operations"
            + (ranToOperationEnd ? " (ran to the end of the operation in progress)" : "")
    }
}
