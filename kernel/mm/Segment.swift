/// One contiguous run of usable RAM inside a zone, managed by the buddy allocator.
///
/// Blocks are aligned on absolute PFNs (a block of order k starts at a multiple of 2^k and
/// its buddy is `pfn ^ (1 << k)`); the segment's edges only limit which blocks exist.
public struct Segment: Sendable {
    /// First frame of the segment.
    public var startPFN: UInt64
    /// One past the last frame.
    public var endPFN: UInt64
    /// Zone index (`ZoneKind.rawValue`).
    public var zone: UInt32
    /// Index of this segment in the global segment array.
    public var index: UInt32
    /// Pages on this segment's free lists (per-CPU cached frames are not counted).
    public var freePages: UInt64
    /// Frames reserved through `reserveRange`.
    public var reservedPages: UInt64
    /// Head PFN of each free list, `Kmem.none` when empty; index `mt * orderCount + order`.
    /// Lists are doubly linked through `FrameMeta.next/prev`, LIFO.
    public var freeHeads: InlineArray<48, UInt64>
    /// Number of blocks on each free list (must equal a walk of the list).
    public var freeCounts: InlineArray<48, UInt64>
    /// Virtual address of the parity bitmap of each order. Bit
    /// `(pfn >> (k+1)) - (startPFN >> (k+1))` is 1 exactly when one of the buddy pair at
    /// order k is a free head and the other is not.
    public var parityBitmaps: InlineArray<12, UInt64>
    /// Virtual address of the debug allocation bitmap: bit `pfn - startPFN` is 1 when the
    /// frame is in use (allocated or reserved), 0 when free or per-CPU cached.
    public var allocBitmap: UInt64
    /// Virtual address of the pageblock tags: one `Migratetype` byte per pageblock,
    /// index `(pfn >> pageblockOrder) - firstPageblock`.
    public var pageblockTags: UInt64
    /// `startPFN >> pageblockOrder`.
    public var firstPageblock: UInt64
    /// Number of pageblocks the segment touches.
    public var pageblockCount: UInt64

    /// Frames in the segment.
    @inline(__always) public var pageCount: UInt64 { endPFN &- startPFN }

    /// First frame of the segment, typed.
    @inline(__always) public var start: PFN { PFN(startPFN) }

    /// One past the last frame, typed.
    @inline(__always) public var end: PFN { PFN(endPFN) }

    /// Whether `pfn` lies in the segment.
    @inline(__always) public func contains(_ pfn: PFN) -> Bool { pfn.raw >= startPFN && pfn.raw < endPFN }

    /// Bits needed by the parity bitmap of `order` for a segment spanning `[start, end)`.
    public static func parityBits(start: PFN, end: PFN, order: Int) -> UInt64 {
        let shift = UInt64(order + 1)
        return ((end.raw &- 1) >> shift) &- (start.raw >> shift) &+ 1
    }
}
