/// One entry of the boot memory map (e820 layout, as PVH's `hvm_memmap_table_entry`).
public struct MemoryRegion: Sendable {
    /// Physical start address.
    public var base: UInt64
    /// Length in bytes.
    public var length: UInt64
    /// e820 type: 1 usable RAM, 2 reserved, 3 ACPI reclaimable, 4 ACPI NVS, 5 bad.
    public var type: UInt32
    public var _reserved: UInt32

    public init(base: UInt64, length: UInt64, type: UInt32) {
        self.base = base
        self.length = length
        self.type = type
        _reserved = 0
    }

    /// e820 type of usable RAM.
    public static let usable: UInt32 = 1
}

/// A half-open range of physical addresses, `[start, end)`.
public struct PhysRange: Sendable {
    public var start: UInt64
    public var end: UInt64
    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }
}

/// What `PageAllocator.boot` needs besides the memory map.
public struct BootConfig: Sendable {
    /// Virtual address of physical 0 in the direct map.
    public var directMapOffset: UInt64
    /// First PFN of DMA32 (16 MiB in the kernel; smaller in host tests).
    public var dma32StartPFN: UInt64 = 0x1000
    /// First PFN of Normal (4 GiB in the kernel).
    public var normalStartPFN: UInt64 = 0x10_0000
    /// RAM at or above this PFN is ignored (the end of the direct map).
    public var limitPFN: UInt64 = 0x100_0000
    /// Physical range of the kernel image, reserved and tagged KERNEL.
    public var kernel: PhysRange = PhysRange(start: 0, end: 0)
    /// Low memory kept for firmware (the first MiB).
    public var lowReservedEnd: UInt64 = 0x10_0000
    /// Fill free pages with a pattern and check it on allocation.
    public var poison: Bool = false
    /// Entries of the operation log ring (0: no log).
    public var opLogCapacity: UInt64 = 65536
    /// Usable RAM held back at boot (not present, not managed: frames with no state, as a
    /// hole), to be added later with `addMemory` (memory hot-add). Empty: none.
    public var heldBack: PhysRange = PhysRange(start: 0, end: 0)
    /// Virtual address of the per-CPU cache table (`Kmem.maxCPUs × 3` `PerCPUPages`, 64-byte
    /// aligned; the kernel's `kmem_pcp`), which boot initialises; 0: carved from boot memory.
    public var perCPUTable: UInt64 = 0
    /// Virtual address of the in-operation table (`Kmem.maxCPUs` `CPUOperation`, 64-byte
    /// aligned; the kernel's `kmem_cpu_ops`), which boot zeroes; 0: carved from boot memory.
    public var cpuOperationTable: UInt64 = 0

    public init(directMapOffset: UInt64) { self.directMapOffset = directMapOffset }
}

/// Owner tags of frames the allocator itself reserves at boot (`FrameMeta.owner`).
public enum BootOwner {
    /// Firmware and the first MiB.
    public static let firmware: UInt64 = 1
    /// The kernel image.
    public static let kernelImage: UInt64 = 2
    /// Boot allocations: the allocator's state, metadata array and bitmaps.
    public static let bootMemory: UInt64 = 3
    /// Other boot reservations (boot information, command line).
    public static let bootInfo: UInt64 = 4
    /// Bitmaps and tags of a segment added after boot (`addMemory`), carved from its top.
    public static let hotAddMemory: UInt64 = 5
    /// Usable RAM left out because the map has more ranges than the allocator has segments
    /// for (the smallest ranges are left out).
    public static let unmanaged: UInt64 = 6
}
