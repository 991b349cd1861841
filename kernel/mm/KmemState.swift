/// The root of the allocator's state, placed in boot memory by `PageAllocator.boot`. Every
/// other structure is reached from here by virtual address, so a debugger needs one symbol.
public struct KmemState: Sendable {
    /// `Kmem.stateMagic`.
    public var magic: UInt64
    /// Sequence number of the last allocator operation started (taken atomically).
    public var sequence: UInt64
    /// Virtual address of physical address 0 (the direct map).
    public var directMapOffset: UInt64
    /// Virtual address of the `FrameMeta` array.
    public var frameMeta: UInt64
    /// Entries in the `FrameMeta` array (one per PFN from 0).
    public var frameCount: UInt64
    /// Virtual address of the `Zone` array (`ZoneKind.count` entries).
    public var zones: UInt64
    /// Virtual address of the `Segment` array, sorted by start PFN, grouped by zone.
    public var segments: UInt64
    /// Segments in use.
    public var segmentCount: UInt64
    /// First PFN of DMA32 and of Normal (16 MiB and 4 GiB in the kernel).
    public var dma32StartPFN: UInt64
    public var normalStartPFN: UInt64
    /// Physical range of the boot allocations (state, metadata, bitmaps).
    public var bootMemStart: UInt64
    public var bootMemEnd: UInt64
    /// Bit 0: page poisoning on.
    public var options: UInt64
    /// Physical range of the kernel image.
    public var kernelStart: UInt64
    public var kernelEnd: UInt64
    /// Virtual address of the operation log ring (`OpLogEntry` × `opLogCapacity`).
    public var opLog: UInt64
    /// Entries in the ring; entry of operation s is at index `s % opLogCapacity`.
    public var opLogCapacity: UInt64
    /// Always 0 since operations may run on several CPUs at once: each CPU's innermost
    /// operation is its `CPUOperation.parentSequence` (kept so no later field moves; the
    /// verifier still reports it non-zero).
    public var parentSequence: UInt64
    /// Virtual address of the slab heap's `HeapState`.
    public var heap: UInt64
    /// Allocator operations (and lock sections) in progress on every CPU, nested ones
    /// included, the sum of the CPUs' `CPUOperation.busy` (changed atomically): 0 between
    /// operations, when the state is consistent. The kernel calls `kmem_op_end` each time one
    /// CPU's own count returns to 0.
    public var busy: UInt64
    /// Virtual address of the per-CPU cache table: `Kmem.maxCPUs` rows of `ZoneKind.count`
    /// `PerCPUPages`, CPU c's cache of zone z at entry `c × ZoneKind.count + z` (the kernel's
    /// `kmem_pcp`; kernel/README.md "Per-CPU caches"). Appended: no earlier field moved.
    public var perCPUPages: UInt64
    /// Virtual address of the in-operation table: `Kmem.maxCPUs` `CPUOperation` rows, CPU c's
    /// `busy` and `parentSequence` at row c (the kernel's `kmem_cpu_ops`; kernel/README.md
    /// "Operations in progress"). Appended: no earlier field moved.
    public var cpuOperations: UInt64
}
