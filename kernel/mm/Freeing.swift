/// Freeing: misuse checks (all before any change), then order-0 frames to the per-CPU cache
/// and larger blocks to the buddy lists, merging with free buddies up to `maxOrder`.
///
/// Merge rule: a freed block merges with its buddy whenever the buddy is a free head of
/// the same order in the same segment; there is no other no-merge case. The pair's parity
/// bit decides (the freed block is not on a list yet, so the bit is 1 exactly when the
/// buddy is a free head of that order); the buddy's metadata is read as a cross-check and a
/// disagreement is corruption. A merged block of pageblock order or more takes the
/// migratetype of its head's pageblock, and all its pageblocks are retagged to it (as Linux
/// does since 6.10).
extension PageAllocator {
    /// Frees the block at `pfn` of `order`. Throws, changing nothing, on a double free, a
    /// wrong order, a frame outside managed memory, a reserved frame, a frame inside a
    /// block, a slab page or large heap block, or a refcount other than 1.
    public func free(_ pfn: PFN, order: Int) throws(KmemError) {
        try free(pfn, order: order, heap: false)
    }

    /// `free`, also accepting a large heap block when `heap` (the heap's own `kfree`).
    func free(_ pfn: PFN, order: Int, heap: Bool) throws(KmemError) {
        // The hit attempt and the general path count once more in `busy`, together.
        let op = cpuOperation
        enterBusy(op)
        defer { leaveBusy(op) }
        // A cache hit holds only this CPU's cache lock (PerCPUFastPath.swift); the rest the zone's lock.
        if freePerCPUHit(pfn, order: order, heap: heap) { return }
        try withZoneLocks(zoneMask(pfn, through: pfn)) { (held: borrowing ZoneLocksHeld) throws(KmemError) in
            var args = OpArguments()
            args.order = order
            args.address = pfn.raw
            try logged(.free, args, { (_) throws(KmemError) in try freeUnlogged(pfn, order: order, heap: heap, held) },
                       outcome: { (.ok, 1) })
        }
    }

    func freeUnlogged(_ pfn: PFN, order: Int, heap: Bool, _ held: borrowing ZoneLocksHeld) throws(KmemError) {
        guard order >= 0 && order <= Kmem.maxOrder else { throw .invalidOrder(order: order) }
        guard let s = segmentIndex(containing: pfn) else { throw .outsideManagedMemory(pfn: pfn) }
        let seg = segment(s)
        let m = meta(pfn)
        let st = m.pointee.state
        if st.contains(.reserved) { throw .freeReserved(pfn: pfn) }
        if st.contains(.free) || st.contains(.pcp) { throw .doubleFree(pfn: pfn) }
        guard st.contains(.allocated) else { throw .notAllocated(pfn: pfn, flags: m.pointee.flags) }
        guard st.contains(.head) else { throw .notBlockHead(pfn: pfn) }
        if st.contains(.slab) { throw .freeSlabPage(pfn: pfn) }
        if !heap && m.pointee.owner == Kmem.largeHeapOwner { throw .freeHeapBlock(pfn: pfn) }
        guard Int(m.pointee.order) == order else {
            throw .wrongOrder(pfn: pfn, allocated: Int(m.pointee.order), freed: order)
        }
        guard m.pointee.refcount == 1 else { throw .badRefcount(pfn: pfn, refcount: m.pointee.refcount) }
        guard pfn &+ pages(order) <= seg.pointee.end else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }

        markFreed(seg, pfn, order)
        if order == 0 {
            try perCPUFree(zone(of: seg), seg, pfn, held)
        } else {
            try freeToBuddy(seg, pfn, order, held)
        }
    }

    /// Turns every frame of an allocated block into a plain FREE frame (no HEAD), poisoning
    /// it if page poisoning is on, and clears its allocation bits.
    func markFreed(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ order: Int) {
        markFreed(seg, pfn, count: pages(order))
    }

    /// `markFreed` of `n` frames from `pfn` (the tail `allocateCount` gives back).
    func markFreed(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, count n: UInt64) {
        let poison = poisoning
        // `transition` by `free` (no HEAD) with its masks computed once.
        let keep = FrameFlags.stateMask.union([.head, .kernel, .user, .slab]).rawValue
        let set = FrameFlags.free.union(poison ? .poisonFill : []).rawValue
        let seq = sequence
        var f = meta(pfn)
        var i: UInt64 = 0
        while i < n {
            if poison { fillPoison(pfn &+ i) }
            let old = f.pointee.flags
            checkMove(f, .free)
            f.pointee.flags = old & ~keep | set
            f.pointee.lastSeq = seq
            f.pointee.order = 0
            f.pointee.refcount = 0
            f.pointee.owner = 0
            f += 1
            i &+= 1
        }
        markInUse(seg, pfn, n, false)
        addAllocated(zone(of: seg), 0 &- n)
    }

    /// Puts a block whose frames are FREE on the buddy lists, merging upward.
    func freeToBuddy(_ seg: UnsafeMutablePointer<Segment>, _ start: PFN, _ startOrder: Int,
                     _ held: borrowing ZoneLocksHeld) throws(KmemError) {
        debugCheckLocked(held, Int(seg.pointee.zone))
        var pfn = start
        var order = startOrder
        while order < Kmem.maxOrder {
            let buddy = pfn.buddy(order: order)
            guard buddy >= seg.pointee.start && buddy &+ pages(order) <= seg.pointee.end else { break }
            let merge = parityBit(segment: seg, pfn: pfn, order: order)
            let b = meta(buddy)
            let metaSaysFree = b.pointee.state.contains([.free, .head]) && Int(b.pointee.order) == order
            guard merge == metaSaysFree else { throw .parityMismatch(pfn: buddy, order: order, free: merge) }
            guard merge else { break }
            debugCheckMerge(seg, pfn, buddy, order)
            try removeFree(seg, buddy)
            let upper = meta(max(pfn, buddy))
            transition(upper, .merge, head: false, add: upper.pointee.state.intersection(.poisonFill))
            upper.pointee.order = 0
            pfn = min(pfn, buddy)
            order += 1
        }
        let mt = pageblockMigratetype(segment: seg, pfn: pfn)
        if order >= Kmem.pageblockOrder { retagPageblocks(seg, pfn, order, mt) }
        pushFree(seg, pfn, order, mt)
    }
}
