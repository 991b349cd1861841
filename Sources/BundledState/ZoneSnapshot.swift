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
    /// Every CPU's order-0 cache of this zone, index = CPU number (kernel/README.md "Per-CPU
    /// caches": one `PerCPUPages` per CPU per zone; an older kernel's single cache is CPU 0's).
    /// Never empty: CPU 0's is always there.
    public var perCPU: [PerCPUSnapshot]

    /// Frames on every CPU's cache of the zone (what the zone counters' invariant adds).
    public var cachedPages: UInt64 { perCPU.reduce(0) { $0 &+ $1.count } }

    /// CPU 0's cache (the boot CPU's; the only one before per-CPU tables): its count, high
    /// mark, batch, list heads, slot counts, drain cursor and tails.
    public var pcpCount: UInt64 { get { perCPU[0].count } set { perCPU[0].count = newValue } }
    public var pcpHigh: UInt64 { get { perCPU[0].high } set { perCPU[0].high = newValue } }
    public var pcpBatch: UInt64 { get { perCPU[0].batch } set { perCPU[0].batch = newValue } }
    public var pcpHeads: [UInt64] { get { perCPU[0].heads } set { perCPU[0].heads = newValue } }
    public var pcpCounts: [UInt64] { get { perCPU[0].counts } set { perCPU[0].counts = newValue } }
    public var pcpDrainCursor: UInt64? { get { perCPU[0].drainCursor } set { perCPU[0].drainCursor = newValue } }
    public var pcpTails: [UInt64] { get { perCPU[0].tails } set { perCPU[0].tails = newValue } }

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
        self.perCPU = [PerCPUSnapshot(cpu: 0, count: pcpCount, high: pcpHigh, batch: pcpBatch)]
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
