/// The frame state machine: the one place a frame's state bits change.
///
/// A managed frame is in exactly one of FREE, ALLOCATED, RESERVED, PCP. HEAD marks the first
/// frame of a free or allocated block; KERNEL/USER/SLAB describe an allocated block;
/// POISON_FILL survives only while the frame stays free or cached (its contents are still
/// the pattern); POISONED (quarantined) is added with RESERVED by `quarantine`.
extension PageAllocator {
    /// Moves frame `f` to `state` (one of `FrameFlags.stateMask`), with HEAD when `head`, plus
    /// `add`, and stamps it with the running operation.
    @inline(__always)
    func transition(_ f: UnsafeMutablePointer<FrameMeta>, to state: FrameFlags, head: Bool, add: FrameFlags = []) {
        var st = f.pointee.state.subtracting(FrameFlags.stateMask)
        st.subtract([.head, .kernel, .user, .slab])
        if state != .free && state != .pcp { st.remove(.poisonFill) }
        st.formUnion(state)
        st.formUnion(add)
        if head { st.insert(.head) }
        f.pointee.state = st
        f.pointee.lastSeq = sequence
    }
}
