/// The boot bump allocator (DragonOS's seed): serves the allocator's own early
/// allocations from one carved physical range, then the rest of RAM goes to the buddy
/// allocator. It never frees.
public struct BootAllocator {
    /// Next free physical address.
    public private(set) var cursor: UInt64
    /// End of the range.
    public let end: UInt64

    public init(start: UInt64, end: UInt64) {
        cursor = start
        self.end = end
    }

    /// Allocates `bytes` aligned to `align` (a power of two). Returns the physical address.
    public mutating func allocate(_ bytes: UInt64, align: UInt64) throws(KmemError) -> UInt64 {
        let p = (cursor &+ align &- 1) & ~(align &- 1)
        guard p &+ bytes <= end else { throw .bootFailed(reason: "boot allocator exhausted") }
        cursor = p &+ bytes
        return p
    }
}
