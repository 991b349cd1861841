/// One segment as the kernel's `Segment` holds it, with its bitmaps and pageblock tags.
public struct SegmentSnapshot: Sendable, Equatable {
    public var index: Int
    public var zone: Int
    public var startPFN: UInt64
    public var endPFN: UInt64
    public var freePages: UInt64
    public var reservedPages: UInt64
    /// Free-list heads and block counts, index `migratetype * (maxOrder + 1) + order`.
    public var freeHeads: [UInt64]
    public var freeCounts: [UInt64]
    /// Parity bitmap of each order, as 64-bit words: bit `(pfn >> (k+1)) - (start >> (k+1))`
    /// of order k. Empty when not read.
    public var parity: [[UInt64]] = []
    /// Allocation bitmap words: bit `pfn - start` is 1 for allocated and reserved frames.
    public var allocBitmap: [UInt64] = []
    /// One migratetype byte per pageblock from `firstPageblock`.
    public var pageblockTags: [UInt8] = []
    public var firstPageblock: UInt64 = 0

    public init(index: Int, zone: Int, startPFN: UInt64, endPFN: UInt64, freePages: UInt64, reservedPages: UInt64,
                freeHeads: [UInt64], freeCounts: [UInt64]) {
        self.index = index
        self.zone = zone
        self.startPFN = startPFN
        self.endPFN = endPFN
        self.freePages = freePages
        self.reservedPages = reservedPages
        self.freeHeads = freeHeads
        self.freeCounts = freeCounts
    }

    /// Frames in the segment.
    public var pageCount: UInt64 { endPFN - startPFN }
}
