/// Bits of `FrameMeta.flags`. A managed frame is in exactly one of the states FREE,
/// ALLOCATED, RESERVED or PCP (cached on the per-CPU list); HEAD marks the first frame of
/// a free or allocated block and only that frame.
public struct FrameFlags: OptionSet, Sendable {
    public var rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Part of a free buddy block.
    public static let free = FrameFlags(rawValue: 1 << 0)
    /// Part of an allocated block.
    public static let allocated = FrameFlags(rawValue: 1 << 1)
    /// Reserved: boot reservations outside segments, or `reserveRange` inside one.
    public static let reserved = FrameFlags(rawValue: 1 << 2)
    /// Allocated for the kernel (unmovable), or the kernel image when reserved.
    public static let kernel = FrameFlags(rawValue: 1 << 3)
    /// Allocated for user data (movable).
    public static let user = FrameFlags(rawValue: 1 << 4)
    /// A slab page of the kernel heap (`owner` names the cache).
    public static let slab = FrameFlags(rawValue: 1 << 5)
    /// Page contents hold the poison pattern (checked when allocated).
    public static let poisoned = FrameFlags(rawValue: 1 << 6)
    /// Copy-on-write mapping (kept for the toolkit; the allocator does not set it).
    public static let cow = FrameFlags(rawValue: 1 << 7)
    /// Dynamic-linker page (kept for the toolkit; the allocator does not set it).
    public static let dll = FrameFlags(rawValue: 1 << 8)
    /// Anonymous memory (kept for the toolkit; the allocator does not set it).
    public static let anonymous = FrameFlags(rawValue: 1 << 9)
    /// First frame of a free or allocated block; `order` is meaningful only here.
    public static let head = FrameFlags(rawValue: 1 << 10)
    /// Order-0 frame parked on a zone's per-CPU list: neither free nor allocated.
    public static let pcp = FrameFlags(rawValue: 1 << 11)

    /// The mutually exclusive state bits.
    public static let stateMask: FrameFlags = [.free, .allocated, .reserved, .pcp]
}
