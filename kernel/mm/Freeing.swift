/// Freeing: misuse checks, then order-0 frames to the per-CPU cache and larger blocks to
/// the buddy lists, merging with free buddies up to `maxOrder`.
///
/// Merge rule: a freed block merges with its buddy whenever the buddy is a free head of
/// the same order in the same segment; there is no other no-merge case. A merged block of
/// pageblock order or more takes the migratetype of its head's pageblock, and all its
/// pageblocks are retagged to it (as Linux does since 6.10).
extension PageAllocator {
    /// Frees the block at `pfn` of `order`. Throws, changing nothing, on a double free, a
    /// wrong order, a frame outside managed memory, a reserved frame, a frame inside a
    /// block, or a refcount other than 1.
    public func free(_ pfn: UInt64, order: Int) throws(KmemError) {
        let seq = beginOperation()
        do {
            try freeUnlogged(pfn, order: order)
            record(seq, .free, status: .ok, order: order, address: pfn, result: 1)
        } catch {
            record(seq, .free, status: .misuse, order: order, address: pfn)
            throw error
        }
    }

    func freeUnlogged(_ pfn: UInt64, order: Int) throws(KmemError) {
        guard order >= 0 && order <= Kmem.maxOrder else { throw .invalidOrder(order: order) }
        guard pfn < frameCount, let s = segmentIndex(containing: pfn) else { throw .outsideManagedMemory(pfn: pfn) }
        let seg = segment(s)
        let m = meta(pfn)
        let st = m.pointee.state
        if st.contains(.reserved) { throw .freeReserved(pfn: pfn) }
        if st.contains(.free) || st.contains(.pcp) { throw .doubleFree(pfn: pfn) }
        guard st.contains(.allocated) else { throw .notAllocated(pfn: pfn, flags: m.pointee.flags) }
        guard st.contains(.head) else { throw .notBlockHead(pfn: pfn) }
        if st.contains(.slab) { throw .freeSlabPage(pfn: pfn) }
        guard Int(m.pointee.order) == order else {
            throw .wrongOrder(pfn: pfn, allocated: Int(m.pointee.order), freed: order)
        }
        guard m.pointee.refcount == 1 else { throw .badRefcount(pfn: pfn, refcount: m.pointee.refcount) }
        guard pfn &+ pages(order) <= seg.pointee.endPFN else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }

        markFreed(seg, pfn, order)
        if order == 0 {
            try perCPUFree(zone(of: seg), seg, pfn)
        } else {
            try freeToBuddy(seg, pfn, order)
        }
    }

    /// Turns every frame of an allocated block into a plain FREE frame (no HEAD), poisoning
    /// it if page poisoning is on, and clears its allocation bits.
    func markFreed(_ seg: UnsafeMutablePointer<Segment>, _ pfn: UInt64, _ order: Int) {
        let n = pages(order)
        let poison = poisoning
        var i: UInt64 = 0
        while i < n {
            let f = meta(pfn &+ i)
            if poison { fillPoison(pfn &+ i) }
            var st = f.pointee.state.subtracting(FrameFlags.stateMask)
            st.subtract([.head, .kernel, .user, .slab, .poisoned])
            st.insert(.free)
            if poison { st.insert(.poisoned) }
            f.pointee.state = st
            f.pointee.order = 0
            f.pointee.refcount = 0
            f.pointee.owner = 0
            f.pointee.lastSeq = sequence
            i &+= 1
        }
        markInUse(seg, pfn, n, false)
        zone(of: seg).pointee.allocatedPages &-= n
    }

    /// Puts a block whose frames are FREE on the buddy lists, merging upward.
    func freeToBuddy(_ seg: UnsafeMutablePointer<Segment>, _ start: UInt64, _ startOrder: Int) throws(KmemError) {
        var pfn = start
        var order = startOrder
        while order < Kmem.maxOrder {
            let buddy = pfn ^ pages(order)
            guard buddy >= seg.pointee.startPFN && buddy &+ pages(order) <= seg.pointee.endPFN else { break }
            let b = meta(buddy)
            guard b.pointee.state.contains([.free, .head]) && Int(b.pointee.order) == order else { break }
            try removeFree(seg, buddy)
            let upper = meta(max(pfn, buddy))
            upper.pointee.state.remove(.head)
            upper.pointee.order = 0
            upper.pointee.lastSeq = sequence
            pfn = min(pfn, buddy)
            order += 1
        }
        let mt = pageblockMigratetype(segment: seg, pfn: pfn)
        if order >= Kmem.pageblockOrder { retagPageblocks(seg, pfn, order, mt) }
        pushFree(seg, pfn, order, mt)
    }
}
