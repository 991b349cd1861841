/// Which free buddies a kernel leaves unmerged because of their migratetypes. Linux's
/// `__free_one_page` (mm/page_alloc.c, 6.1) merges below `pageblock_order` always, and at or
/// above it only when the two migratetypes are equal or both mergeable
/// (`migratetype_is_mergeable`: below `MIGRATE_PCPTYPES`, so not HighAtomic or Isolate).
public struct MergeRestriction: Sendable, Equatable {
    /// From this order up the migratetypes matter (Linux: `pageblock_order`).
    public var fromOrder: Int
    /// Slots below this merge with each other (Linux: `MIGRATE_PCPTYPES`); others only with their own.
    public var mergeableBelow: Int

    public init(fromOrder: Int, mergeableBelow: Int) {
        self.fromOrder = fromOrder
        self.mergeableBelow = mergeableBelow
    }

    /// Whether two free buddies of `order` with these migratetypes would have been merged.
    public func merges(order: Int, _ a: Int, _ b: Int) -> Bool {
        order < fromOrder || a == b || (a < mergeableBelow && b < mergeableBelow)
    }
}
