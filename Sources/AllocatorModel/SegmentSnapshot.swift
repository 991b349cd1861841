/// One segment as the kernel's `Segment` holds it (its bitmaps are not read yet).
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
