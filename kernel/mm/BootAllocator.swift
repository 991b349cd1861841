/// The boot bump allocator (DragonOS's seed): serves the allocator's own early
/// allocations from one carved physical range, top-down as Linux's memblock, then the rest
/// of RAM goes to the buddy allocator. It never frees; what it did not use (`start` up to
/// `cursor`) is handed back to the buddy allocator by `boot`.
public struct BootAllocator {
    /// Lowest physical address handed out so far (allocations go downward from `end`).
    public private(set) var cursor: UInt64
    /// Start of the range.
    public let start: UInt64

    public init(start: UInt64, end: UInt64) {
        cursor = end
        self.start = start
    }

    /// Allocates `bytes` aligned to `align` (a power of two), below everything allocated so
    /// far. Returns the physical address.
    public mutating func allocate(_ bytes: UInt64, align: UInt64) throws(KmemError) -> UInt64 {
        guard bytes <= cursor &- start else { throw .bootFailed(reason: "boot allocator exhausted") }
        let p = (cursor &- bytes) & ~(align &- 1)
        guard p >= start else { throw .bootFailed(reason: "boot allocator exhausted") }
        cursor = p
        return p
    }
}
