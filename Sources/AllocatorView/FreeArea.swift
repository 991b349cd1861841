/// The free blocks of one order in a zone or segment: the counter the kernel keeps for the
/// whole order, if any, and one list per migratetype slot.
public struct FreeArea: Sendable, Equatable {
    public var order: Int
    /// The kernel's count of free blocks of this order on all lists (Linux: `nr_free`), nil
    /// when the kernel keeps none per order.
    public var counter: UInt64?
    /// One list per migratetype slot, in slot order.
    public var lists: [FreeList]

    public init(order: Int, counter: UInt64?, lists: [FreeList]) {
        self.order = order
        self.counter = counter
        self.lists = lists
    }

    /// Blocks walked on all lists.
    public var walked: UInt64 { lists.reduce(0) { $0 &+ $1.walked } }

    /// The number /proc/buddyinfo prints: the kernel's counter where it keeps one (that is
    /// what Linux prints), otherwise the blocks walked (a broken list counts up to its break).
    public var blocks: UInt64 { counter ?? walked }
}

/// One free list (one order, one migratetype slot).
public struct FreeList: Sendable, Equatable {
    public var migratetype: Int
    /// The kernel's own count of this list's blocks, if it keeps one.
    public var counter: UInt64?
    /// Blocks found by walking the list, up to where the walk stopped.
    public var walked: UInt64
    /// The head PFN of each block walked, when the producer kept them.
    public var blockPFNs: [UInt64]?
    /// Whether the walk ended cleanly (else ``AllocatorView/listBreaks`` says where it broke).
    public var complete: Bool
    /// Whether the walk stopped at the reader's own bound while the kernel's counter says
    /// there are more blocks (Linux: `--list-limit`): only the first blocks were read. Not a
    /// break — a subset, so the counters of its order are not compared.
    public var cutShort: Bool

    public init(migratetype: Int, counter: UInt64? = nil, walked: UInt64, blockPFNs: [UInt64]? = nil, complete: Bool = true,
                cutShort: Bool = false) {
        self.migratetype = migratetype
        self.counter = counter
        self.walked = walked
        self.blockPFNs = blockPFNs
        self.complete = complete
        self.cutShort = cutShort
    }
}

/// Where a free-list walk broke, or a node on it that was no block.
public struct ListBreak: Sendable, Equatable {
    /// Node id and zone index.
    public var node: Int
    public var zone: Int
    public var segment: Int?
    public var order: Int
    public var migratetype: Int
    /// Blocks walked before the break, if known.
    public var walked: UInt64?
    /// The link (a PFN or an address) the walk stopped at, if one.
    public var link: UInt64?
    /// What was wrong.
    public var reason: String
    /// The line a user reads, in the producing kernel's words.
    public var text: String

    public init(node: Int = 0, zone: Int, segment: Int? = nil, order: Int, migratetype: Int, walked: UInt64? = nil,
                link: UInt64? = nil, reason: String, text: String) {
        self.node = node
        self.zone = zone
        self.segment = segment
        self.order = order
        self.migratetype = migratetype
        self.walked = walked
        self.link = link
        self.reason = reason
        self.text = text
    }
}
