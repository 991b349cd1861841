/// One CPU's order-0 cache of one zone, as the kernel's `PerCPUPages` holds it (entry
/// `cpu × PCP_ZONES + zone` of the `kmem_pcp` table; kernel/README.md "Per-CPU caches").
public struct PerCPUSnapshot: Sendable, Equatable {
    /// The CPU whose cache this is.
    public var cpu: Int
    /// Frames on all its lists, its high mark and batch.
    public var count: UInt64
    public var high: UInt64
    public var batch: UInt64
    /// List heads, slot counts and tails, one per migratetype slot (`tails` empty when not
    /// published).
    public var heads: [UInt64] = []
    public var counts: [UInt64] = []
    public var tails: [UInt64] = []
    /// The slot the next drain looks at first (`PerCPUPages.drainCursor`; nil when not published).
    public var drainCursor: UInt64? = nil

    public init(cpu: Int, count: UInt64, high: UInt64, batch: UInt64) {
        self.cpu = cpu
        self.count = count
        self.high = high
        self.batch = batch
    }

    /// Whether it holds nothing: no count, every head and tail "none", every slot count 0.
    public var isEmpty: Bool {
        count == 0 && heads.allSatisfy { $0 == KernelSnapshot.none } && counts.allSatisfy { $0 == 0 }
            && tails.allSatisfy { $0 == KernelSnapshot.none }
    }
}
