import KernelMM

// Test ergonomics for frame numbers. Host tests only: the kernel keeps `PFN(…)` and `&+`
// explicit, so that an expression such as `1 &+ count` can never silently become a frame.

/// Frame numbers written as literals (`pa.free(0x600, order: 0)`).
extension PFN: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: UInt64) { self.init(value) }
}

/// Ranges of frames (`for f in p..<(p + 8)`).
extension PFN: Strideable {
    public func distance(to other: PFN) -> Int64 { Int64(bitPattern: other.raw &- raw) }
    public func advanced(by n: Int64) -> PFN { PFN(raw &+ UInt64(bitPattern: n)) }
}

extension PFN {
    /// The frame `n` frames above.
    static func + (pfn: PFN, n: UInt64) -> PFN { PFN(pfn.raw + n) }
    /// The frame number modulo `n` (alignment checks).
    static func % (pfn: PFN, n: UInt64) -> UInt64 { pfn.raw % n }
    /// The frame number shifted right (pageblock and zone arithmetic).
    static func >> (pfn: PFN, n: UInt64) -> UInt64 { pfn.raw >> n }
}
