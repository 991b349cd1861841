/// A zone: its segments, accounting, watermarks and lowmem reserve. Its per-CPU caches are
/// in the [cpu][zone] table (`PerCPUPages`, `PageAllocator.perCPU(_:cpu:)`).
///
/// Invariant: `freePages + Σ(every CPU's cache count) + allocatedPages + reservedPages == managedPages`,
/// and `presentPages == managedPages + bootReservedPages`.
public struct Zone: Sendable {
    /// `ZoneKind.rawValue`.
    public var kind: UInt32
    /// Segments of this zone (consecutive in the global segment array).
    public var segmentCount: UInt32
    /// Index of the zone's first segment in the global segment array.
    public var firstSegment: UInt64
    /// First frame of RAM in the zone (0 when the zone is empty).
    public var startPFN: UInt64
    /// One past the last frame of RAM in the zone.
    public var endPFN: UInt64
    /// First frame of the zone's span, typed.
    @inline(__always) public var start: PFN { PFN(startPFN) }

    /// `endPFN - startPFN`, holes included.
    public var spannedPages: UInt64
    /// Usable RAM frames in the zone by the boot memory map.
    public var presentPages: UInt64
    /// Frames handed to the buddy allocator (the sum of the segments).
    public var managedPages: UInt64
    /// Present frames kept at boot (first MiB, kernel image, boot allocations, metadata).
    public var bootReservedPages: UInt64
    /// Managed frames reserved at run time through `reserveRange`.
    public var reservedPages: UInt64
    /// Pages on the zone's free lists.
    public var freePages: UInt64
    /// Pages in allocated blocks.
    public var allocatedPages: UInt64
    /// Watermarks: below `min` only no-watermark requests succeed; allocation first tries
    /// against `low`, then against `min`. `high` is advisory (where reclaim would stop).
    public var watermarkMin: UInt64
    public var watermarkLow: UInt64
    public var watermarkHigh: UInt64
    /// Pages this zone keeps back from requests that could have used a higher zone:
    /// index = the highest zone the request allows.
    public var lowmemReserve: InlineArray<3, UInt64>
    /// The zone's lock (`ZoneLock.swift`): held, with interrupts off, by every operation that
    /// changes the zone; free (`next == owner`) between operations. Last, so that no earlier
    /// field moved when it came.
    public var lock: TicketLockWord
}
