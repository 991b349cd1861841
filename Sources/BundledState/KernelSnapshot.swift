/// The allocator's state as read from guest memory at one moment: plain values, no I/O.
/// `KernelLayouts` decodes it; every view and check in this module reads it.
public struct KernelSnapshot: Sendable {
    /// Bytes per page.
    public var pageSize: UInt64
    /// Largest buddy order.
    public var maxOrder: Int
    /// Pageblock order.
    public var pageblockOrder: Int
    /// Migratetypes in use, and free-list slots per order.
    public var migratetypes: Int
    public var migratetypeSlots: Int
    /// The allocator's operation sequence number when the snapshot was taken.
    public var sequence: UInt64
    /// The zones, by index (DMA, DMA32, Normal).
    public var zones: [ZoneSnapshot]
    /// All segments, in the kernel's order.
    public var segments: [SegmentSnapshot]
    /// Every frame's metadata, by PFN.
    public var frames: FrameTable
    /// The `FrameMeta.flags` bits, as the kernel published them.
    public var flags = FlagBits()
    /// The slab heap, when it was read.
    public var heap: HeapSnapshot?
    /// Entries the operation-log ring holds (`OPLOG_CAPACITY`), when known.
    public var opLogCapacity: UInt64?
    /// Allocator operations in progress (`KmemState.busy`, descriptor `BUSY`) when the snapshot
    /// was taken, when known: 0 means between operations, where the state is consistent.
    public var busy: UInt64?
    /// Whether page poisoning is on (descriptor `POISONING`), when known.
    public var poisoning: Bool?
    /// The state's own copies, indices and heap totals, when the decoder read them (`state-fields`).
    public var stateFields: StateFields?
    /// Free pages whose poison was overwritten, when their contents were read (`verify
    /// --free-page-poison`); nil when they were not.
    public var poisonDamage: [PoisonDamage]?
    /// What the kernel stopped on when it halted at its own BUG (its `kmem_bug` record); nil
    /// for a kernel that has not (or that publishes no record). A snapshot with one is a
    /// post-mortem: see ``KernelBug``.
    public var bug: KernelBug?
    /// Where DMA32 and Normal begin (descriptor `DMA32_START_PFN`, `NORMAL_START_PFN`), when known.
    public var zoneLimits: ZoneLimits?
    /// The CPUs that came up (descriptor `CPU_COUNT`, at most 16), when published: views list
    /// their per-CPU caches (and any other CPU's that is not empty).
    public var cpuCount: Int?

    public init(pageSize: UInt64, maxOrder: Int, pageblockOrder: Int, migratetypes: Int, migratetypeSlots: Int,
                sequence: UInt64, zones: [ZoneSnapshot], segments: [SegmentSnapshot], frames: FrameTable) {
        self.pageSize = pageSize
        self.maxOrder = maxOrder
        self.pageblockOrder = pageblockOrder
        self.migratetypes = migratetypes
        self.migratetypeSlots = migratetypeSlots
        self.sequence = sequence
        self.zones = zones
        self.segments = segments
        self.frames = frames
    }

    /// The flag bits the checks read.
    public struct FlagBits: Sendable, Equatable {
        public var free: UInt32 = 1 << 0
        public var allocated: UInt32 = 1 << 1
        public var reserved: UInt32 = 1 << 2
        public var slab: UInt32 = 1 << 5
        public var kernel: UInt32 = 1 << 3
        public var user: UInt32 = 1 << 4
        /// The debug pattern was written over the frame when it was freed.
        public var poisonFill: UInt32 = 1 << 12
        public var head: UInt32 = 1 << 10
        public var pcp: UInt32 = 1 << 11
        /// Quarantined (its poison was found overwritten): only with `reserved`. 0 when the
        /// kernel does not publish it.
        public var poisoned: UInt32 = 0
        /// Every bit the kernel defines (the union of its `FLAG(…)` entries); 0 when unknown.
        /// A frame with another bit set is corrupt.
        public var defined: UInt32 = 0
        public init() {}
        /// The mutually exclusive state bits.
        public var states: UInt32 { free | allocated | reserved | pcp }
    }

    /// "No frame" in a list link or head.
    public static let none: UInt64 = .max
}
