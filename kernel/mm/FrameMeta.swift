/// Per-frame metadata: one 64-byte record per physical frame, in one array indexed by PFN
/// that covers all RAM (holes included), reached through the direct map.
///
/// Layout is part of the contract with the toolkit; it is pinned by the kernel's own
/// measurement (`kmem_info`), the host tests (`MemoryLayout`) and DWARF.
public struct FrameMeta: Sendable {
    /// Next block on the free or per-CPU list (PFN), `Kmem.none` at the end. Valid on heads.
    public var next: UInt64            // 0
    /// Previous block on the list (PFN), `Kmem.none` at the front. Valid on heads.
    public var prev: UInt64            // 8
    /// `FrameFlags` bits.
    public var flags: UInt32           // 16
    /// Block order, meaningful on HEAD frames only.
    public var order: UInt8            // 20
    /// Migratetype of the list a free head sits on, or that it was allocated as.
    public var migratetype: UInt8      // 21
    /// Zone index, 0xFF for frames outside RAM.
    public var zone: UInt8             // 22
    public var _pad0: UInt8            // 23
    /// References held on an allocated block head: 1 while allocated, 0 otherwise.
    public var refcount: UInt32        // 24
    /// Index of the segment managing this frame, 0xFFFF when none.
    public var segment: UInt16         // 28
    public var _pad1: UInt16           // 30
    /// Owner tag given at allocation (or the slab cache index on SLAB pages).
    public var owner: UInt64           // 32
    /// Sequence number of the allocator operation that last changed this frame.
    public var lastSeq: UInt64         // 40
    /// Slab: head of the in-page free-object list (address, 0 when none).
    public var slabFree: UInt64        // 48
    /// Slab: objects in use (low 32 bits) and object count (high 32 bits).
    public var slabInfo: UInt64        // 56

    /// An empty record: no links, no state.
    public static let empty = FrameMeta(
        next: Kmem.none, prev: Kmem.none, flags: 0, order: 0, migratetype: 0, zone: 0xFF,
        _pad0: 0, refcount: 0, segment: 0xFFFF, _pad1: 0, owner: 0, lastSeq: 0,
        slabFree: 0, slabInfo: 0)

    /// `next` as a frame (`PFN.noFrame` at the end of the list).
    @inline(__always) public var nextFrame: PFN {
        get { PFN(next) }
        set { next = newValue.raw }
    }

    /// `prev` as a frame (`PFN.noFrame` at the front of the list).
    @inline(__always) public var prevFrame: PFN {
        get { PFN(prev) }
        set { prev = newValue.raw }
    }

    /// The flags as an option set.
    @inline(__always) public var state: FrameFlags {
        get { FrameFlags(rawValue: flags) }
        set { flags = newValue.rawValue }
    }
}
