/// A page allocator's state in terms every buddy allocator shares, whichever kernel it was
/// read from: nodes → zones → (segments) → free areas per order × migratetype → blocks,
/// per-CPU caches, pageblock counts, zone counters, and the slab heap's caches.
///
/// Each kernel's decoder produces one (the bundled kernel: `KernelSnapshot.allocatorView`;
/// Linux: `LinuxKernelTarget.allocatorView`), and the views (`AllocatorText`) are written
/// once against it. What a kernel does not keep is `nil`, never a made-up zero. Values come
/// from the guest: counters are as found, walks are bounded and say where they broke.
public struct AllocatorView: Sendable, Equatable {
    /// Which kernel produced it (`bundled`, `linux`).
    public var kernel: String
    /// The operation sequence number the state was read at (the bundled kernel's), if any.
    public var sequence: UInt64?
    public var pageSize: UInt64
    /// Orders `0..<orderCount`.
    public var orderCount: Int
    /// Order of a pageblock, if the kernel has pageblocks.
    public var pageblockOrder: Int?
    /// A name for every free-list slot a zone has, in slot order; the first
    /// ``migratetypesInUse`` are the migratetypes the kernel allocates from, any after them
    /// are spare slots (which should stay empty).
    public var migratetypeNames: [String]
    public var migratetypesInUse: Int
    public var nodes: [NodeView]
    /// The slab heap, if the kernel has one and it was read.
    public var heap: HeapView?
    /// Every free-list walk that broke or met a node it could not use, in the order found.
    public var listBreaks: [ListBreak]
    /// The most blocks /proc/pagetypeinfo counts on one list (Linux: 100,000), nil for no limit.
    public var procListCountLimit: Int?
    /// When the kernel leaves two free buddies of the same order unmerged because of their
    /// migratetypes; nil when it merges free buddies whatever their migratetypes (the bundled kernel).
    public var mergeRestriction: MergeRestriction?

    public init(kernel: String, sequence: UInt64? = nil, pageSize: UInt64, orderCount: Int, pageblockOrder: Int?,
                migratetypeNames: [String], migratetypesInUse: Int, nodes: [NodeView], heap: HeapView? = nil,
                listBreaks: [ListBreak] = [], procListCountLimit: Int? = nil, mergeRestriction: MergeRestriction? = nil) {
        self.kernel = kernel
        self.sequence = sequence
        self.pageSize = pageSize
        self.orderCount = orderCount
        self.pageblockOrder = pageblockOrder
        self.migratetypeNames = migratetypeNames
        self.migratetypesInUse = migratetypesInUse
        self.nodes = nodes
        self.heap = heap
        self.listBreaks = listBreaks
        self.procListCountLimit = procListCountLimit
        self.mergeRestriction = mergeRestriction
    }

    /// The name of free-list slot `slot`.
    public func migratetypeName(_ slot: Int) -> String {
        slot >= 0 && slot < migratetypeNames.count ? migratetypeNames[slot] : "slot \(slot)"
    }

    /// Every zone of every node, in order.
    public var zones: [ZoneView] { nodes.flatMap(\.zones) }
}

/// One NUMA node (the bundled kernel has one, node 0).
public struct NodeView: Sendable, Equatable {
    public var id: Int
    public var zones: [ZoneView]
    /// The node's own counters (Linux: `pglist_data.vm_stat[]`, zoneinfo's "per-node stats"),
    /// nil when the kernel keeps none or they were not read.
    public var stats: [NamedCount]?
    /// Whether reclaim has given up on the node (Linux: `kswapd_failures >= MAX_RECLAIM_RETRIES`,
    /// zoneinfo's `node_unreclaimable`), nil when not read.
    public var unreclaimable: Bool?

    public init(id: Int, zones: [ZoneView], stats: [NamedCount]? = nil, unreclaimable: Bool? = nil) {
        self.id = id
        self.zones = zones
        self.stats = stats
        self.unreclaimable = unreclaimable
    }
}
