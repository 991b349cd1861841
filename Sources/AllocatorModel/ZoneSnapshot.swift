/// One zone as the kernel's `Zone` holds it.
public struct ZoneSnapshot: Sendable, Equatable {
    public var index: Int
    public var name: String
    public var firstSegment: Int
    public var segmentCount: Int
    public var startPFN: UInt64
    public var endPFN: UInt64
    public var spannedPages: UInt64
    public var presentPages: UInt64
    public var managedPages: UInt64
    public var bootReservedPages: UInt64
    public var reservedPages: UInt64
    public var freePages: UInt64
    public var allocatedPages: UInt64
    public var watermarkMin: UInt64
    public var watermarkLow: UInt64
    public var watermarkHigh: UInt64
    public var lowmemReserve: [UInt64]
    /// Frames on the per-CPU lists, its high mark and batch.
    public var pcpCount: UInt64
    public var pcpHigh: UInt64
    public var pcpBatch: UInt64
    /// Per-CPU list heads and counts, one per migratetype slot.
    public var pcpHeads: [UInt64] = []
    public var pcpCounts: [UInt64] = []
    /// The slot the next per-CPU drain looks at first (`PerCPUPages.drainCursor`; nil when the
    /// kernel does not publish it).
    public var pcpDrainCursor: UInt64? = nil
    /// Per-CPU list tails (the coldest frame of each slot; empty when not published).
    public var pcpTails: [UInt64] = []

    public init(index: Int, name: String, firstSegment: Int, segmentCount: Int, startPFN: UInt64, endPFN: UInt64,
                spannedPages: UInt64, presentPages: UInt64, managedPages: UInt64, bootReservedPages: UInt64,
                reservedPages: UInt64, freePages: UInt64, allocatedPages: UInt64, watermarkMin: UInt64,
                watermarkLow: UInt64, watermarkHigh: UInt64, lowmemReserve: [UInt64], pcpCount: UInt64,
                pcpHigh: UInt64, pcpBatch: UInt64) {
        self.index = index
        self.name = name
        self.firstSegment = firstSegment
        self.segmentCount = segmentCount
        self.startPFN = startPFN
        self.endPFN = endPFN
        self.spannedPages = spannedPages
        self.presentPages = presentPages
        self.managedPages = managedPages
        self.bootReservedPages = bootReservedPages
        self.reservedPages = reservedPages
        self.freePages = freePages
        self.allocatedPages = allocatedPages
        self.watermarkMin = watermarkMin
        self.watermarkLow = watermarkLow
        self.watermarkHigh = watermarkHigh
        self.lowmemReserve = lowmemReserve
        self.pcpCount = pcpCount
        self.pcpHigh = pcpHigh
        self.pcpBatch = pcpBatch
    }

    /// The zone's segments' indices, as the guest's zone says (`firstSegment`, `segmentCount`:
    /// guest data, so a sum past `Int.max` or a negative count is an empty range, not a trap;
    /// `zone-parameters` reports such a zone).
    public var segmentIndices: Range<Int> {
        let (end, overflow) = firstSegment.addingReportingOverflow(segmentCount)
        guard !overflow, firstSegment >= 0, segmentCount >= 0 else { return 0..<0 }
        return firstSegment..<end
    }
}
