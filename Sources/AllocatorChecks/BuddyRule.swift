/// The rules that hold for any buddy allocator, whichever kernel it lives in. Each kernel's
/// verifier runs them through ``BuddyChecks`` and reports a finding under its own check name
/// (the bundled kernel's `free-list-links`, `counters`, `coalescible-buddies`…; Linux's
/// `list-links`, `nr-free`, `order-aligned`…), so users keep the names they know.
public enum BuddyRule: String, CaseIterable, Sendable {
    /// A free-list walk ended cleanly: every link in range, no cycle (``ListBreak``).
    case listLinks = "list-links"
    /// A free area's per-order counter (Linux's `nr_free`) equals the blocks on its lists.
    case orderCounter = "order-counter"
    /// A list's own counter equals the blocks walked on it.
    case listCounter = "list-counter"
    /// A free block of order k starts at a multiple of 2^k (and k is a shift a PFN can take).
    case orderAligned = "order-aligned"
    /// A free block lies inside the zone or segment whose list holds it.
    case inRange = "in-range"
    /// No PFN heads two listed blocks.
    case onOneList = "on-one-list"
    /// No two free blocks share a page.
    case noOverlap = "no-overlap"
    /// No free block has a free buddy of the same order the kernel would have merged it with.
    case buddyMerged = "buddy-merged"
    /// A per-CPU cache's count equals the pages on its lists.
    case perCPUCount = "pcp-count"

    /// One line on what the rule asserts.
    public var summary: String {
        switch self {
        case .listLinks: return "every free-list walk ends cleanly: links in range, no cycle"
        case .orderCounter: return "each order's counter equals the blocks on that order's lists"
        case .listCounter: return "each list's counter equals the blocks walked on it"
        case .orderAligned: return "a free block of order k starts at a multiple of 2^k"
        case .inRange: return "a free block lies inside the zone or segment whose list holds it"
        case .onOneList: return "no page heads two listed blocks"
        case .noOverlap: return "free blocks are disjoint"
        case .buddyMerged: return "no free block has a free buddy of the same order that the kernel would have merged"
        case .perCPUCount: return "a per-CPU cache's count equals Σ pages × 2^order on its lists"
        }
    }
}
