/// One zone: its span and page counts, the counters and limits the kernel keeps for it
/// (`nil` where it keeps none), its free areas, per-CPU caches and pageblock counts.
public struct ZoneView: Sendable, Equatable {
    /// Index in its node's zone array.
    public var index: Int
    public var name: String
    /// Whether /proc lists it (Linux: present pages; the bundled kernel: managed pages).
    public var populated: Bool
    public var startPFN: UInt64
    /// One past the last PFN, as the kernel records it.
    public var endPFN: UInt64
    public var spannedPages: UInt64
    public var presentPages: UInt64
    public var managedPages: UInt64
    /// The kernel's own count of free pages (Linux: `vm_stat[NR_FREE_PAGES]`).
    public var freePages: Counter?
    public var watermarks: Watermarks?
    /// Pages held back from allocations that could use a higher zone, per zone (`lowmem_reserve`).
    public var lowmemReserve: [UInt64]?
    /// One free area per order, `0..<orderCount`.
    public var freeAreas: [FreeArea]
    /// The zone's segments (contiguous usable runs), nil when the kernel has none.
    public var segments: [SegmentView]?
    /// The kernel's count of the zone's segments, if it keeps one.
    public var segmentCount: Int?
    /// Per-CPU page caches, one per CPU read.
    public var perCPU: [PerCPUCache]
    /// Pageblocks per migratetype slot (`0..<migratetypesInUse`), when they were read.
    public var pageblocks: [UInt64]?
    /// The zone's named counters in the kernel's order (Linux: `vm_stat[]` by `vmstat_text`),
    /// nil when not read; zoneinfo prints them in place of its one `nr_free_pages` line.
    public var stats: [NamedCount]?
    /// NUMA allocation events (Linux: `vm_numa_event[]` plus every CPU's unfolded part), nil
    /// when the kernel keeps none.
    public var numaEvents: [NamedCount]?
    /// Pages given to CMA (`cma_pages`), nil when the kernel has no CMA (printed as 0).
    public var cmaPages: UInt64?
    /// The kernel's own count of pages held back at boot, never given to the allocator (the
    /// bundled kernel's `bootReservedPages`), nil when it keeps none.
    public var bootReservedPages: UInt64?
    /// The kernel's own count of pages reserved after boot (the bundled kernel's `reservedPages`), nil when it keeps none.
    public var reservedPages: UInt64?
    /// The kernel's own count of pages handed out (the bundled kernel's `allocatedPages`), nil when it keeps none.
    public var allocatedPages: UInt64?

    public init(index: Int, name: String, populated: Bool, startPFN: UInt64, endPFN: UInt64, spannedPages: UInt64,
                presentPages: UInt64, managedPages: UInt64, freePages: Counter? = nil, watermarks: Watermarks? = nil,
                lowmemReserve: [UInt64]? = nil, freeAreas: [FreeArea], segments: [SegmentView]? = nil,
                segmentCount: Int? = nil, perCPU: [PerCPUCache] = [], pageblocks: [UInt64]? = nil,
                stats: [NamedCount]? = nil, numaEvents: [NamedCount]? = nil, cmaPages: UInt64? = nil,
                bootReservedPages: UInt64? = nil, reservedPages: UInt64? = nil, allocatedPages: UInt64? = nil) {
        self.index = index
        self.name = name
        self.populated = populated
        self.startPFN = startPFN
        self.endPFN = endPFN
        self.spannedPages = spannedPages
        self.presentPages = presentPages
        self.managedPages = managedPages
        self.freePages = freePages
        self.watermarks = watermarks
        self.lowmemReserve = lowmemReserve
        self.freeAreas = freeAreas
        self.segments = segments
        self.segmentCount = segmentCount
        self.perCPU = perCPU
        self.pageblocks = pageblocks
        self.stats = stats
        self.numaEvents = numaEvents
        self.cmaPages = cmaPages
        self.bootReservedPages = bootReservedPages
        self.reservedPages = reservedPages
        self.allocatedPages = allocatedPages
    }

    /// Free pages on the lists by the blocks counted per order (see ``FreeArea/blocks``).
    public var pagesOnLists: UInt64 {
        freeAreas.reduce(0) { $0 &+ ($1.blocks << UInt64(max($1.order, 0))) }
    }
}

/// A counter as the kernel keeps it: unsigned, or signed (Linux's `atomic_long_t` counters
/// can be read negative in a race or after corruption).
public enum Counter: Sendable, Equatable, CustomStringConvertible {
    case unsigned(UInt64)
    case signed(Int64)

    public var description: String {
        switch self {
        case .unsigned(let v): return String(v)
        case .signed(let v): return String(v)
        }
    }

    /// The value as a page count: a negative counter counts as 0.
    public var pages: UInt64 {
        switch self {
        case .unsigned(let v): return v
        case .signed(let v): return v < 0 ? 0 : UInt64(v)
        }
    }
}

/// A zone's watermarks in pages as the allocator applies them (Linux: `wmark_pages()`,
/// `_watermark[WMARK_MIN…WMARK_HIGH]` plus `watermark_boost`), and the boost if kept.
public struct Watermarks: Sendable, Equatable {
    public var min: UInt64
    public var low: UInt64
    public var high: UInt64
    public var boost: UInt64?
    /// The promotion watermark (Linux's `WMARK_PROMO`), only where the kernel's zoneinfo prints it.
    public var promo: UInt64?

    public init(min: UInt64, low: UInt64, high: UInt64, boost: UInt64? = nil, promo: UInt64? = nil) {
        self.min = min
        self.low = low
        self.high = high
        self.boost = boost
        self.promo = promo
    }
}

/// A segment: a contiguous usable run of a zone with its own free lists (the bundled kernel).
public struct SegmentView: Sendable, Equatable {
    public var index: Int
    public var startPFN: UInt64
    public var endPFN: UInt64
    /// The segment's free-page counter.
    public var freePages: UInt64?
    public var reservedPages: UInt64?
    /// One free area per order, the segment's own lists.
    public var freeAreas: [FreeArea]

    public init(index: Int, startPFN: UInt64, endPFN: UInt64, freePages: UInt64?, reservedPages: UInt64?, freeAreas: [FreeArea]) {
        self.index = index
        self.startPFN = startPFN
        self.endPFN = endPFN
        self.freePages = freePages
        self.reservedPages = reservedPages
        self.freeAreas = freeAreas
    }
}
