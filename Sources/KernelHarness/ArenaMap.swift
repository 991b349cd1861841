import KernelMM

/// The "physical memory" a ``HostArena`` plays: the boot memory map, the size of the host
/// mapping that backs it (from physical address 0), the zone limits (scaled down so every
/// zone exists in a few MiB) and where the kernel image sits.
public struct ArenaMap: Sendable {
    /// The e820-style map handed to `PageAllocator.boot`.
    public var regions: [MemoryRegion]
    /// Bytes of the host mapping; every region must end below it.
    public var bytes: Int
    /// First PFN of DMA32 and of Normal.
    public var dma32StartPFN: UInt64
    public var normalStartPFN: UInt64
    /// The kernel image's physical range (reserved at boot).
    public var kernel: PhysRange

    public init(regions: [MemoryRegion], bytes: Int = 24 << 20, dma32StartPFN: UInt64 = 0x400,
                normalStartPFN: UInt64 = 0xC00, kernel: PhysRange = PhysRange(start: 0x10_0000, end: 0x14_0000)) {
        self.regions = regions
        self.bytes = bytes
        self.dma32StartPFN = dma32StartPFN
        self.normalStartPFN = normalStartPFN
        self.kernel = kernel
    }

    /// 24 MiB with holes and reservations; DMA below 4 MiB, DMA32 below 12 MiB, Normal above;
    /// the kernel image at [1M, 1.25M). Pageblocks of order 9 and blocks up to order 11 exist.
    ///   [0, 0x9f000) usable, [0x9f000, 1M) reserved (firmware), [1M, 6M) usable,
    ///   [6M, 6.5M) hole, [6.5M, 14M) usable, [14M, 15M) reserved, [15M, 24M) usable.
    public static let standard = ArenaMap(regions: [
        MemoryRegion(base: 0, length: 0x9F000, type: 1),
        MemoryRegion(base: 0x9F000, length: 0x61000, type: 2),
        MemoryRegion(base: 0x10_0000, length: 0x50_0000, type: 1),
        MemoryRegion(base: 0x68_0000, length: 0x78_0000, type: 1),
        MemoryRegion(base: 0xE0_0000, length: 0x10_0000, type: 2),
        MemoryRegion(base: 0xF0_0000, length: 0x90_0000, type: 1),
    ])

    /// 6 MiB with a hole at [3M, 3.25M); DMA < 1.5 MiB ≤ DMA32 < 4 MiB ≤ Normal: all three
    /// zones and several segments in little memory (the property storms' map).
    public static let small = ArenaMap(regions: [
        MemoryRegion(base: 0, length: 0x9F000, type: 1),
        MemoryRegion(base: 0x10_0000, length: 0x20_0000, type: 1),
        MemoryRegion(base: 0x34_0000, length: 0x2C_0000, type: 1),
    ], bytes: 6 << 20, dma32StartPFN: 0x180, normalStartPFN: 0x400)

    /// `managedBytes` of memory in three usable ranges (DMA below 16 MiB, DMA32 below 40 MiB,
    /// Normal above), plus room for an operation log of `logCapacity` entries so a long log
    /// does not eat the memory the workload runs in (a 1 M-entry log is 128 MiB); the kernel
    /// image at [1M, 4M). The benchmarks' map.
    public static func bench(managedBytes: Int, logCapacity: UInt64) -> ArenaMap {
        let logBytes = Int(logCapacity) * MemoryLayout<OpLogEntry>.stride
        let bytes = (managedBytes + logBytes + 0xF_FFFF) & ~0xF_FFFF
        return ArenaMap(regions: [
            MemoryRegion(base: 0, length: 0x9F000, type: 1),
            MemoryRegion(base: 0x10_0000, length: 0x1F0_0000, type: 1),
            MemoryRegion(base: 0x210_0000, length: UInt64(bytes - 0x210_0000), type: 1),
        ], bytes: bytes, dma32StartPFN: 0x1000, normalStartPFN: 0x2800, kernel: PhysRange(start: 0x10_0000, end: 0x40_0000))
    }
}
