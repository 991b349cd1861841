/// One CPU's per-CPU page cache of one zone (Linux's `per_cpu_pages`; the bundled kernel's
/// `PerCPUPages`): pages freed to the CPU and not yet back on the buddy lists.
public struct PerCPUCache: Sendable, Equatable {
    public var cpu: Int
    /// The kernel's count of pages on the lists (`pcp->count`), nil if unreadable.
    public var count: Counter?
    /// The high mark and the batch size, if read.
    public var high: UInt64?
    public var batch: UInt64?
    /// The lists and the pages found on them, when they were walked.
    public var lists: [PerCPUList]?
    /// The auto-tuned bounds of `high` (Linux 6.7+: `high_min`, `high_max`), nil where the kernel has none.
    public var highMin: UInt64?
    public var highMax: UInt64?
    /// How much of a counter the CPU keeps before folding it (Linux: `per_cpu_zonestat.stat_threshold`).
    public var statThreshold: Int?

    public init(cpu: Int, count: Counter?, high: UInt64? = nil, batch: UInt64? = nil, lists: [PerCPUList]? = nil,
                highMin: UInt64? = nil, highMax: UInt64? = nil, statThreshold: Int? = nil) {
        self.cpu = cpu
        self.count = count
        self.high = high
        self.batch = batch
        self.lists = lists
        self.highMin = highMin
        self.highMax = highMax
        self.statThreshold = statThreshold
    }
}

/// One per-CPU list: its order, migratetype slot and the pages walked on it.
public struct PerCPUList: Sendable, Equatable {
    public var order: Int
    public var migratetype: Int?
    /// PFNs on the list, in list order, up to where the walk stopped.
    public var pages: [UInt64]
    /// How the walk ended.
    public var end: ListWalkEnd

    public init(order: Int, migratetype: Int?, pages: [UInt64], end: ListWalkEnd) {
        self.order = order
        self.migratetype = migratetype
        self.pages = pages
        self.end = end
    }
}
