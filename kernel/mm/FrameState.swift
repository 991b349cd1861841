#if KMEM_KERNEL
/// The kernel's report of an illegal frame-state move (`src/Platform.swift`): prints
/// `kmem: BUG: illegal frame state change …` and halts, as Linux's VM_BUG_ON_PAGE.
@_extern(c, "kmem_illegal_transition")
func kmemIllegalTransition(_ pfn: UInt64, _ from: UInt32, _ to: UInt32)
#endif

/// The frame state machine: the one place a frame's state bits change, and where an
/// illegal move is caught at the step that makes it (as SerenityOS's VERIFY and Linux's
/// VM_BUG_ON do), not only by the self-check afterwards.
///
/// A managed frame is in exactly one of FREE, ALLOCATED, RESERVED, PCP (none: a frame not
/// yet given to the allocator, at boot or hot-add). HEAD marks the first frame of a free or
/// allocated block; KERNEL/USER/SLAB describe an allocated block; POISON_FILL survives only
/// while the frame stays free or cached (its contents are still the pattern); POISONED
/// (quarantined) is added with RESERVED by `quarantine`.
///
/// Legal moves (kernel/README.md's table, checked cell by cell by the host tests): a move
/// from a frame with more than one state bit, or to anything but one state, is illegal.
///
/// | from \ to | FREE | ALLOCATED | PCP | RESERVED |
/// |---|---|---|---|---|
/// | none      | boot, hot-add | – | – | hot-add bitmaps |
/// | FREE      | split, merge, claim | hand out | refill, free order 0 | reserve, quarantine |
/// | ALLOCATED | free | count trim | – | – |
/// | PCP       | drain, claim | hand out | – | – |
/// | RESERVED  | unreserve | – | – | – |
extension PageAllocator {
    /// Moves frame `f` to `state` (one of `FrameFlags.stateMask`), with HEAD when `head`, plus
    /// `add`, and stamps it with the running operation. An illegal move is a kernel bug.
    @inline(__always)
    func transition(_ f: UnsafeMutablePointer<FrameMeta>, to state: FrameFlags, head: Bool, add: FrameFlags = []) {
        let from = f.pointee.state.intersection(FrameFlags.stateMask)
        if !Self.isLegal(from: from, to: state) { illegalTransition(f, from, state) }
        var st = f.pointee.state.subtracting(FrameFlags.stateMask)
        st.subtract([.head, .kernel, .user, .slab])
        if state != .free && state != .pcp { st.remove(.poisonFill) }
        st.formUnion(state)
        st.formUnion(add)
        if head { st.insert(.head) }
        f.pointee.state = st
        f.pointee.lastSeq = sequence
    }

    /// The table above.
    @inline(__always)
    static func isLegal(from: FrameFlags, to: FrameFlags) -> Bool {
        // none or exactly one of FREE, ALLOCATED, RESERVED, PCP (a frame with two is corrupt)
        let bits = from.rawValue
        guard bits & ~FrameFlags.stateMask.rawValue == 0, bits & (bits &- 1) == 0 else { return false }
        if to == .free { return true }
        if to == .allocated { return from == .free || from == .pcp || from == .allocated }
        if to == .pcp { return from == .free }
        if to == .reserved { return from == .free || from.isEmpty }
        return false
    }

    @inline(never)
    func illegalTransition(_ f: UnsafeMutablePointer<FrameMeta>, _ from: FrameFlags, _ to: FrameFlags) {
        let pfn = UInt64(f - metaBase)
        #if KMEM_KERNEL
        kmemIllegalTransition(pfn, from.rawValue, to.rawValue)
        #else
        fatalError("illegal frame state change of pfn 0x\(String(pfn, radix: 16)): \(from.rawValue) -> \(to.rawValue)")
        #endif
    }
}
