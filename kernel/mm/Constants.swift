/// Fixed parameters of the page allocator, shared by the kernel, the host build and
/// (through the layout descriptor) the toolkit.
public enum Kmem {
    /// log2 of the page size.
    public static let pageShift: UInt64 = 12
    /// Bytes per page (4 KiB).
    public static let pageSize: UInt64 = 4096
    /// Largest buddy order: blocks of 2^11 pages (8 MiB).
    public static let maxOrder = 11
    /// Number of orders, `0...maxOrder`.
    public static let orderCount = 12
    /// Pageblocks are order 9 (2 MiB): the unit that carries a migratetype tag.
    public static let pageblockOrder = 9
    /// Pages per pageblock.
    public static let pageblockPages: UInt64 = 512
    /// Free-list slots per order in every segment. The first `Migratetype.count` are used;
    /// the rest are room for more migratetypes and must stay empty.
    public static let migratetypeSlots = 4
    /// Free lists per segment: `migratetypeSlots × orderCount`, indexed `mt * orderCount + order`.
    public static let freeListCount = 48
    /// "No frame" in a free-list link or list head.
    public static let none: UInt64 = .max
    /// Most segments the allocator can manage in all.
    public static let segmentCapacity = 64
    /// Magic at the start of `KmemState` ("KMEMSTAT").
    public static let stateMagic: UInt64 = 0x4B4D_454D_5354_4154
    /// Byte written over free pages when page poisoning is on (as Linux's PAGE_POISON).
    public static let poisonByte: UInt8 = 0xAA
}

/// Index of the free list for `migratetype slot` and `order` in a segment.
@inline(__always)
func freeListIndex(_ mt: Int, _ order: Int) -> Int { mt &* Kmem.orderCount &+ order }

/// Pages in a block of `order`.
@inline(__always)
func pages(_ order: Int) -> UInt64 { 1 &<< UInt64(order) }
