/// A page frame number: which 4 KiB frame of physical memory (physical address >> 12).
///
/// A distinct type so that a frame cannot be passed where a physical address, a count of
/// pages or an owner tag is meant; it costs nothing (one `UInt64`, every operation inlined,
/// also under Embedded Swift). The structures the debugger reads (`FrameMeta` links,
/// `Segment` and `Zone` bounds, list heads) keep raw words in memory; their typed views
/// (`Segment.start`, `FrameMeta.nextFrame`, …) return `PFN`.
@frozen
public struct PFN: Equatable, Hashable, Comparable {
    /// The frame number.
    public var raw: UInt64

    /// The frame numbered `raw`.
    @inline(__always) public init(_ raw: UInt64) { self.raw = raw }

    /// "No frame": the value of an empty list head or a missing link (`Kmem.none`).
    public static let noFrame = PFN(Kmem.none)

    /// Whether this is `PFN.noFrame`.
    @inline(__always) public var isNoFrame: Bool { raw == Kmem.none }

    /// The frame's first byte.
    @inline(__always) public var address: PhysicalAddress { PhysicalAddress(raw &<< Kmem.pageShift) }

    /// The frame `n` frames above this one (wrapping: callers check bounds).
    @inline(__always) public static func &+ (pfn: PFN, n: UInt64) -> PFN { PFN(pfn.raw &+ n) }

    /// The frame `n` frames below this one (wrapping: callers check bounds).
    @inline(__always) public static func &- (pfn: PFN, n: UInt64) -> PFN { PFN(pfn.raw &- n) }

    /// Moves `pfn` up by `n` frames (wrapping).
    @inline(__always) public static func &+= (pfn: inout PFN, n: UInt64) { pfn.raw &+= n }

    /// Moves `pfn` down by `n` frames (wrapping).
    @inline(__always) public static func &-= (pfn: inout PFN, n: UInt64) { pfn.raw &-= n }

    /// Frames from `lower` up to `upper` (wrapping: callers check `lower <= upper`).
    @inline(__always) public static func &- (upper: PFN, lower: PFN) -> UInt64 { upper.raw &- lower.raw }

    /// The buddy of the block of `order` at this frame.
    @inline(__always) public func buddy(order: Int) -> PFN { PFN(raw ^ (1 &<< UInt64(order))) }

    /// Whether a block of `order` may start here (aligned to 2^order frames).
    @inline(__always) public func isAligned(order: Int) -> Bool { raw & ((1 &<< UInt64(order)) &- 1) == 0 }

    /// Whether this frame is a multiple of `pages` (a power of two).
    @inline(__always) public func isAligned(pages: UInt64) -> Bool { raw & (pages &- 1) == 0 }

    /// The pageblock this frame belongs to (its number, `pfn >> pageblockOrder`).
    @inline(__always) public var pageblock: UInt64 { raw &>> UInt64(Kmem.pageblockOrder) }

    @inline(__always) public static func < (a: PFN, b: PFN) -> Bool { a.raw < b.raw }
}

/// A guest-physical byte address. Distinct from `PFN` and from kernel virtual addresses
/// (which stay `UInt64`: the heap hands them out and the direct map produces them).
@frozen
public struct PhysicalAddress: Equatable, Hashable, Comparable {
    /// The address.
    public var raw: UInt64

    /// The physical address `raw`.
    @inline(__always) public init(_ raw: UInt64) { self.raw = raw }

    /// The frame holding this address.
    @inline(__always) public var pfn: PFN { PFN(raw &>> Kmem.pageShift) }

    /// The byte `n` bytes above this one (wrapping).
    @inline(__always) public static func &+ (a: PhysicalAddress, n: UInt64) -> PhysicalAddress {
        PhysicalAddress(a.raw &+ n)
    }

    @inline(__always) public static func < (a: PhysicalAddress, b: PhysicalAddress) -> Bool { a.raw < b.raw }
}
