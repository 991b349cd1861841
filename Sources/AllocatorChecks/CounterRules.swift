import AllocatorView

/// The counter rules: what the kernel counts against what the walk found. A list read only
/// in part (``FreeList/cutShort``) is not compared, nor is its order's counter.
public enum CounterRules {
    /// `order-counter`: the area's counter, where the kernel keeps one, against the blocks on
    /// all its lists.
    public static func check(_ area: FreeArea) -> BuddyFinding? {
        guard let counter = area.counter, !area.lists.contains(where: \.cutShort), counter != area.walked else { return nil }
        return BuddyFinding(.orderCounter, pfn: nil, .orderCounter(order: area.order, counter: counter, walked: area.walked))
    }

    /// `list-counter`: a list's own counter, where the kernel keeps one, against its walk.
    public static func check(_ list: FreeList, order: Int) -> BuddyFinding? {
        guard let counter = list.counter, !list.cutShort, counter != list.walked else { return nil }
        return BuddyFinding(.listCounter, pfn: nil,
                            .listCounter(order: order, migratetype: list.migratetype, counter: counter, walked: list.walked))
    }

    /// `pcp-count`: a CPU's count against Σ pages × 2^order on its lists, when the count was
    /// read and every list walked to its end (a broken list is the walk's finding, not a count's).
    public static func check(_ cache: PerCPUCache) -> BuddyFinding? {
        guard let count = cache.count, let lists = cache.lists, lists.allSatisfy({ $0.end == .closed }) else { return nil }
        var listed: UInt64 = 0
        for list in lists where list.order >= 0 && list.order < 64 {
            listed = listed &+ (UInt64(list.pages.count) &<< UInt64(list.order))
        }
        let equal: Bool
        switch count {
        case .unsigned(let v): equal = v == listed
        case .signed(let v): equal = v >= 0 && UInt64(v) == listed
        }
        return equal ? nil : BuddyFinding(.perCPUCount, pfn: nil, .perCPUCount(cpu: cache.cpu, count: count, listed: listed))
    }
}
