/// Allocation of one chosen frame and reservation of ranges (the exokernel seed's
/// `allocate_specific` and reserved ranges).
extension PageAllocator {
    /// Allocates exactly frame `pfn` as an order-0 block. Returns false when the frame is
    /// managed but busy (allocated or reserved); throws when it is not managed memory.
    public func allocateFrame(_ pfn: UInt64, migratetype: Migratetype = .unmovable, owner: UInt64 = 0) throws(KmemError) -> Bool {
        beginOperation()
        guard try claimFrame(pfn) else { return false }
        try markAllocated(pfn, AllocationRequest(order: 0, migratetype: migratetype, owner: owner))
        return true
    }

    /// Reserves `count` frames from `start`: all must be free or cached, else nothing
    /// changes and the result is false. Reserved frames count in `reservedPages` and can
    /// never be freed.
    public func reserveRange(start: UInt64, count: UInt64, owner: UInt64 = 0) throws(KmemError) -> Bool {
        beginOperation()
        var p = start
        while p < start &+ count {
            guard p < frameCount, segmentIndex(containing: p) != nil else { throw .outsideManagedMemory(pfn: p) }
            let st = meta(p).pointee.state
            if !st.contains(.free) && !st.contains(.pcp) { return false }
            p &+= 1
        }
        p = start
        while p < start &+ count {
            _ = try claimFrame(p)
            let m = meta(p)
            let seg = segment(Int(m.pointee.segment))
            if m.pointee.state.contains(.poisoned) { try checkPoison(p) }
            var st = m.pointee.state.subtracting(FrameFlags.stateMask)
            st.subtract([.head, .poisoned])
            st.insert(.reserved)
            m.pointee.state = st
            m.pointee.order = 0
            m.pointee.refcount = 0
            m.pointee.owner = owner
            m.pointee.lastSeq = sequence
            markInUse(seg, p, 1, true)
            seg.pointee.reservedPages &+= 1
            zone(of: seg).pointee.reservedPages &+= 1
            p &+= 1
        }
        return true
    }

    /// Takes `pfn` out of the free lists or the per-CPU cache, splitting its free block so
    /// that only `pfn` leaves. Returns false when the frame is not free or cached.
    func claimFrame(_ pfn: UInt64) throws(KmemError) -> Bool {
        guard pfn < frameCount, let s = segmentIndex(containing: pfn) else { throw .outsideManagedMemory(pfn: pfn) }
        let seg = segment(s)
        let m = meta(pfn)
        if m.pointee.state.contains(.pcp) {
            try unlinkPerCPU(zone(of: seg), pfn, Int(m.pointee.migratetype))
            m.pointee.state = m.pointee.state.subtracting(FrameFlags.stateMask).union(.free)
            return true
        }
        guard m.pointee.state.contains(.free) else { return false }
        // Find the free block containing pfn: its head is pfn rounded down to some order.
        var k = 0
        var head = Kmem.none
        while k <= Kmem.maxOrder {
            let h = pfn & ~(pages(k) &- 1)
            if h < seg.pointee.startPFN { break }
            let hm = meta(h)
            if hm.pointee.state.contains([.free, .head]) && Int(hm.pointee.order) == k { head = h; break }
            k += 1
        }
        guard head != Kmem.none else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
        let mt = Int(meta(head).pointee.migratetype)
        try removeFree(seg, head)
        while k > 0 {
            k -= 1
            let half = pages(k)
            if pfn >= head &+ half {
                pushFree(seg, head, k, mt)
                head &+= half
            } else {
                pushFree(seg, head &+ half, k, mt)
            }
        }
        // `head == pfn` now; it is unlisted. Clear a stale HEAD left by the split.
        m.pointee.state.remove(.head)
        return true
    }
}
