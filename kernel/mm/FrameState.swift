#if KMEM_KERNEL
/// The kernel's report of an illegal frame-state move (`src/FrameBug.swift`): prints
/// `kmem: BUG: illegal frame state change …` with the move's name and halts, as Linux's
/// VM_BUG_ON_PAGE.
@_extern(c, "kmem_illegal_move")
func kmemIllegalMove(_ pfn: UInt64, _ from: UInt32, _ to: UInt32, _ move: UInt32)
#endif

/// A frame's state: none (not yet given to the allocator, at boot or hot-add) or exactly
/// one of FREE, ALLOCATED, RESERVED, PCP. `index` numbers them 0…4 for the move table.
enum FrameStateIndex {
    static let none: UInt8 = 1 << 0
    static let free: UInt8 = 1 << 1
    static let allocated: UInt8 = 1 << 2
    static let reserved: UInt8 = 1 << 3
    static let pcp: UInt8 = 1 << 4

    /// The bit of `state` (`FrameFlags` state bits of one frame), or 0 when it has more
    /// than one state bit or a bit that is not a state (a corrupt frame: no move is legal).
    @inline(__always)
    static func bit(_ state: FrameFlags) -> UInt8 {
        switch state.rawValue {
        case 0: return none
        case FrameFlags.free.rawValue: return free
        case FrameFlags.allocated.rawValue: return allocated
        case FrameFlags.reserved.rawValue: return reserved
        case FrameFlags.pcp.rawValue: return pcp
        default: return 0
        }
    }
}

/// Every way a frame's state changes, each with the one state it moves to and the states it
/// may come from (kernel/README.md, "State moves"; the host tests check this table against
/// the contract's, row by row). A move not in the table — a double free (FREE by `free`), a
/// reserved frame handed out, a free frame "released" twice — is a kernel bug caught at the
/// step that makes it, not only by the self-check afterwards.
public enum FrameMove: UInt32, CaseIterable, Sendable {
    /// none → FREE (hot-add) or RESERVED → FREE (boot): a segment's frames given to the allocator.
    case release = 1
    /// none → RESERVED: boot reservations and hot-add's metadata pages.
    case bootReserve
    /// FREE → FREE|HEAD: a free block's head put on a buddy list (free, split halves, merge
    /// result, claim's pieces, count trim's tail, a pageblock's blocks moved to another list).
    case list
    /// FREE → FREE: the upper buddy's HEAD cleared when two buddies merge.
    case merge
    /// FREE → FREE or PCP → FREE: a frame claimed out of its free block or off a per-CPU list
    /// (`allocateFrame`, `reserveRange`, quarantine).
    case claim
    /// ALLOCATED → FREE: a block freed (its frames, before they go to a list).
    case free
    /// PCP → FREE: a frame drained from a per-CPU list to the buddy lists.
    case drain
    /// RESERVED → FREE: `unreserve`.
    case unreserve
    /// FREE → ALLOCATED or PCP → ALLOCATED: a block handed out.
    case handOut
    /// ALLOCATED → ALLOCATED: `allocateCount` re-heads the kept pieces.
    case countTrim
    /// ALLOCATED → ALLOCATED: a page made a slab page of the heap, or given back by it (SLAB set or cleared).
    case slab
    /// FREE → PCP: a frame parked on a per-CPU list (refill, order-0 free).
    case cache
    /// FREE → RESERVED: `reserveRange` and quarantine.
    case reserve

    /// The state the move leaves the frame in.
    @inline(__always)
    public var target: FrameFlags {
        switch self {
        case .release, .list, .merge, .claim, .free, .drain, .unreserve: return .free
        case .handOut, .countTrim, .slab: return .allocated
        case .cache: return .pcp
        case .bootReserve, .reserve: return .reserved
        }
    }

    /// The states (`FrameStateIndex` bits) the move may start from.
    @inline(__always)
    var sources: UInt8 {
        switch self {
        case .release: return FrameStateIndex.none | FrameStateIndex.reserved
        case .bootReserve: return FrameStateIndex.none
        case .list, .merge: return FrameStateIndex.free
        case .claim: return FrameStateIndex.free | FrameStateIndex.pcp
        case .free: return FrameStateIndex.allocated
        case .drain: return FrameStateIndex.pcp
        case .unreserve: return FrameStateIndex.reserved
        case .handOut: return FrameStateIndex.free | FrameStateIndex.pcp
        case .countTrim, .slab: return FrameStateIndex.allocated
        case .cache, .reserve: return FrameStateIndex.free
        }
    }

    /// Whether the move may start from a frame whose state bits are `from`.
    @inline(__always)
    public func allows(from: FrameFlags) -> Bool {
        FrameStateIndex.bit(from) & sources != 0
    }

    /// The name kernel/README.md's table gives the move.
    public var name: StaticString {
        switch self {
        case .release: return "release"
        case .bootReserve: return "boot reserve"
        case .list: return "list"
        case .merge: return "merge"
        case .claim: return "claim"
        case .free: return "free"
        case .drain: return "drain"
        case .unreserve: return "unreserve"
        case .handOut: return "hand out"
        case .countTrim: return "count trim"
        case .slab: return "slab"
        case .cache: return "cache"
        case .reserve: return "reserve"
        }
    }
}

/// The frame state machine: the one place a frame's state bits change (every writer goes
/// through `transition` or, for a run of frames, `checkMove`; fault injection alone writes
/// state by hand, since corrupting it is its job).
///
/// HEAD marks the first frame of a free or allocated block; KERNEL/USER/SLAB describe an
/// allocated block; POISON_FILL survives only while the frame stays free or cached (its
/// contents are still the pattern); POISONED (quarantined) is added with RESERVED.
extension PageAllocator {
    /// Moves frame `f` by `move` to its target state, with HEAD when `head`, plus `add`, and
    /// stamps it with the running operation (unless `stamp` is false: boot and a hot-added
    /// segment's release, whose frames keep the sequence they were written with). A move from a state it does not allow is a
    /// kernel bug.
    @inline(__always)
    func transition(_ f: UnsafeMutablePointer<FrameMeta>, _ move: FrameMove, head: Bool, add: FrameFlags = [], stamp: Bool = true) {
        checkMove(f, move)
        let state = move.target
        var st = f.pointee.state.subtracting(FrameFlags.stateMask)
        st.subtract([.head, .kernel, .user, .slab])
        if state != .free && state != .pcp { st.remove(.poisonFill) }
        st.formUnion(state)
        st.formUnion(add)
        if head { st.insert(.head) }
        f.pointee.state = st
        if stamp { f.pointee.lastSeq = sequence }
    }

    /// Halts when `move` may not start from `f`'s state (for paths that write the new state
    /// words themselves, in one pass over many frames or over the few words a fast path changes).
    @inline(__always)
    func checkMove(_ f: UnsafeMutablePointer<FrameMeta>, _ move: FrameMove) {
        let from = f.pointee.state.intersection(FrameFlags.stateMask)
        if !move.allows(from: from) { illegalMove(f, from, move) }
    }

    /// Whether some move leads from state bits `from` to state `to` (the contract's 5 × 4
    /// table, the union of the moves).
    static func isLegal(from: FrameFlags, to: FrameFlags) -> Bool {
        FrameMove.allCases.contains { $0.target == to && $0.allows(from: from) }
    }

    @inline(never)
    func illegalMove(_ f: UnsafeMutablePointer<FrameMeta>, _ from: FrameFlags, _ move: FrameMove) {
        let pfn = UInt64(f - metaBase)
        #if KMEM_KERNEL
        kmemIllegalMove(pfn, f.pointee.flags, move.target.rawValue, move.rawValue)
        #else
        fatalError("illegal frame state change of pfn 0x\(String(pfn, radix: 16)) by \(move.name): \(from.rawValue) -> \(move.target.rawValue)")
        #endif
    }
}
