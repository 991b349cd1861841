import AllocatorView

/// One broken rule: which, where, and the facts found — data, not wording: each kernel's
/// verifier words it as its users read it.
public struct BuddyFinding: Sendable, Equatable, CustomStringConvertible {
    public var rule: BuddyRule
    /// Node id, zone index (in the node) and segment index where the kernel has segments.
    public var node: Int
    public var zone: Int
    public var segment: Int?
    /// The block or page the finding is about, if one.
    public var pfn: UInt64?
    public var fact: Fact

    public init(_ rule: BuddyRule, node: Int = 0, zone: Int = 0, segment: Int? = nil, pfn: UInt64?, _ fact: Fact) {
        self.rule = rule
        self.node = node
        self.zone = zone
        self.segment = segment
        self.pfn = pfn
        self.fact = fact
    }

    /// What was found.
    public enum Fact: Sendable, Equatable {
        /// The walk broke there (in the producer's words).
        case listBroken(ListBreak)
        /// `counter` of `order` (all lists) against the blocks walked.
        case orderCounter(order: Int, counter: UInt64, walked: UInt64)
        /// One list's `counter` against the blocks walked on it.
        case listCounter(order: Int, migratetype: Int, counter: UInt64, walked: UInt64)
        /// An order no PFN can be aligned to (below 0 or 64 and above).
        case impossibleOrder(ListedBlock)
        /// The block's PFN is not a multiple of 2^order.
        case misaligned(ListedBlock)
        /// The block does not fit `[start, end)` (`end` wrapped when `endOverflows`).
        case outside(ListedBlock, start: UInt64, end: UInt64)
        /// The same head on two lists, `first` as found first.
        case onTwoLists(first: ListedBlock, second: ListedBlock)
        /// The block starts inside `container`.
        case overlaps(ListedBlock, container: ListedBlock)
        /// The block and its free buddy at `buddy`, of the same order.
        case unmerged(ListedBlock, buddy: UInt64)
        /// A CPU's cache count against Σ pages × 2^order walked on its lists.
        case perCPUCount(cpu: Int, count: Counter, listed: UInt64)
    }

    /// `rule node N zone Z [segment S] [pfn 0x…]: fact` (for tests and logs; verifiers word their own).
    public var description: String {
        var place = "\(rule.rawValue) node \(node) zone \(zone)"
        if let segment { place += " segment \(segment)" }
        if let pfn { place += " pfn \(hex(pfn))" }
        return "\(place): \(fact)"
    }
}
