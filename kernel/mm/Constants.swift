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
    public static let orderCount = maxOrder + 1
    /// Pageblocks are order 9 (2 MiB): the unit that carries a migratetype tag.
    public static let pageblockOrder = 9
    /// Pages per pageblock.
    public static let pageblockPages: UInt64 = 1 << UInt64(pageblockOrder)
    /// Free-list slots per order in every segment. The first `Migratetype.count` are used;
    /// the rest are room for more migratetypes and must stay empty. (The `InlineArray`
    /// sizes in `Segment` and `PerCPUPages` spell out these products; `LayoutPinTests`
    /// pins them to these constants.)
    public static let migratetypeSlots = 4
    /// Free lists per segment: `migratetypeSlots × orderCount`, indexed `mt * orderCount + order`.
    public static let freeListCount = migratetypeSlots * orderCount
    /// "No frame" in a free-list link or list head.
    public static let none: UInt64 = .max
    /// Most CPUs (`KMEM_MAX_CPUS`): rows of the per-CPU cache table (`KmemState.perCPUPages`).
    public static let maxCPUs = 16
    /// Most segments the allocator can manage in all.
    public static let segmentCapacity = 128
    /// Magic at the start of `KmemState` ("KMEMSTAT").
    public static let stateMagic: UInt64 = 0x4B4D_454D_5354_4154
    /// Byte written over free pages when page poisoning is on (as Linux's PAGE_POISON).
    public static let poisonByte: UInt8 = 0xAA
    /// `poisonByte` in every byte of a word.
    public static let poisonWord: UInt64 = 0x0101_0101_0101_0101 &* UInt64(poisonByte)
    /// Owner tag of a quarantined frame (poison found overwritten).
    public static let quarantineOwner: UInt64 = 0x0BAD_0000
    /// Byte written over free slab objects (after their link word), as SLUB's POISON_FREE.
    public static let slabPoison: UInt8 = 0x6B
    /// `slabPoison` in every byte of a word.
    public static let slabPoisonWord: UInt64 = 0x0101_0101_0101_0101 &* UInt64(slabPoison)
    /// Smallest and largest slab object sizes; larger requests take whole buddy blocks.
    public static let smallestObject: UInt64 = 16
    public static let largestObject: UInt64 = 2048
    /// Size classes of the slab heap.
    public static let slabCacheCount = 8
    /// Owner tag of slab pages: `slabOwnerBase + cache index`.
    public static let slabOwnerBase: UInt64 = 0x51AB_0000
    /// Owner tag of large heap allocations (whole buddy blocks).
    public static let largeHeapOwner: UInt64 = 0x1A46_E000
}

/// Index of the free list for `migratetype slot` and `order` in a segment.
@inline(__always)
func freeListIndex(_ mt: Int, _ order: Int) -> Int { mt &* Kmem.orderCount &+ order }

/// Pages in a block of `order`.
@inline(__always)
func pages(_ order: Int) -> UInt64 { 1 &<< UInt64(order) }
