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
    /// Quarantined (strat9's POISONED): the frame's poison pattern was found overwritten
    /// while it was free, so it was taken out of use for good. Always with RESERVED.
    public static let poisoned = FrameFlags(rawValue: 1 << 6)
    // Bits 7–9 were strat9's COW, DLL and ANONYMOUS: this kernel has no user address spaces
    // to give them a meaning, so they are not defined and must stay 0.
    /// First frame of a free or allocated block; `order` is meaningful only here.
    public static let head = FrameFlags(rawValue: 1 << 10)
    /// Order-0 frame parked on a zone's per-CPU list: neither free nor allocated.
    public static let pcp = FrameFlags(rawValue: 1 << 11)
    /// Page poisoning is on and the frame holds the poison pattern written when it was
    /// freed; checked before the frame is handed out again.
    public static let poisonFill = FrameFlags(rawValue: 1 << 12)

    /// The mutually exclusive state bits.
    public static let stateMask: FrameFlags = [.free, .allocated, .reserved, .pcp]
    /// Every defined bit; any other bit set is corruption.
    public static let defined: FrameFlags = [.free, .allocated, .reserved, .kernel, .user, .slab, .poisoned, .head, .pcp, .poisonFill]
}
