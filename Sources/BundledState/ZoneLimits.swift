/// Where the zones begin: DMA below `dma32StartPFN`, DMA32 below `normalStartPFN`, Normal above
/// (16 MiB and 4 GiB in the kernel; scaled down in host tests).
public struct ZoneLimits: Sendable, Equatable {
    public var dma32StartPFN: UInt64
    public var normalStartPFN: UInt64

    public init(dma32StartPFN: UInt64, normalStartPFN: UInt64) {
        self.dma32StartPFN = dma32StartPFN
        self.normalStartPFN = normalStartPFN
    }

    /// The zone of `pfn`.
    public func zone(of pfn: UInt64) -> Int { pfn >= normalStartPFN ? 2 : pfn >= dma32StartPFN ? 1 : 0 }

    /// The end of the part of `[start, end)` that stays in `start`'s zone.
    public func pieceEnd(_ start: UInt64, _ end: UInt64) -> UInt64 {
        var b = end
        if start < dma32StartPFN { b = min(b, dma32StartPFN) }
        if start < normalStartPFN { b = min(b, normalStartPFN) }
        return b
    }
}
