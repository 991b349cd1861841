/// Statistics as /proc/buddyinfo, /proc/pagetypeinfo and strat9's zone.rs compute them.
/// Counts come from walking the lists (bounded by each list's count and the segment size),
/// not from the counters, so they are an independent reading.
extension PageAllocator {
    /// Free blocks on list (`mt`, `order`) of segment `seg`, by walking it. Stops at the
    /// segment's page count (a longer walk means a cycle).
    public func walkCount(_ seg: UnsafeMutablePointer<Segment>, mt: Int, order: Int) -> UInt64 {
        var n: UInt64 = 0
        var p = PFN(seg.pointee.freeHeads[freeListIndex(mt, order)])
        let bound = seg.pointee.pageCount &+ 1
        while p < frameEnd && n < bound {
            n &+= 1
            p = meta(p).pointee.nextFrame
        }
        return n
    }

    /// Free blocks of `order` in zone `z` (all migratetypes), by walking the lists.
    public func freeBlocks(zone z: Int, order: Int) -> UInt64 {
        let zp = zone(z)
        var n: UInt64 = 0
        var s = Int(zp.pointee.firstSegment)
        while s < Int(zp.pointee.firstSegment) + Int(zp.pointee.segmentCount) {
            for mt in 0..<Kmem.migratetypeSlots { n &+= walkCount(segment(s), mt: mt, order: order) }
            s += 1
        }
        return n
    }

    /// Free blocks of `order` and migratetype `mt` in zone `z`, by walking the lists.
    public func freeBlocks(zone z: Int, migratetype mt: Int, order: Int) -> UInt64 {
        let zp = zone(z)
        var n: UInt64 = 0
        var s = Int(zp.pointee.firstSegment)
        while s < Int(zp.pointee.firstSegment) + Int(zp.pointee.segmentCount) {
            n &+= walkCount(segment(s), mt: mt, order: order)
            s += 1
        }
        return n
    }

    /// Free pages of migratetype `mt` in zone `z` across all orders.
    public func freePages(zone z: Int, migratetype mt: Int) -> UInt64 {
        var n: UInt64 = 0
        for k in 0...Kmem.maxOrder { n &+= freeBlocks(zone: z, migratetype: mt, order: k) << UInt64(k) }
        return n
    }

    /// Free pages in blocks of at least `order` in zone `z`.
    public func freePagesAtOrAbove(zone z: Int, order: Int) -> UInt64 {
        var n: UInt64 = 0
        var k = order
        while k <= Kmem.maxOrder { n &+= freeBlocks(zone: z, order: k) << UInt64(k); k += 1 }
        return n
    }

    /// Percentage of free pages (cached included) that cannot serve an `order` request:
    /// 0 = all usable, 100 = all trapped in smaller blocks (strat9's score).
    public func fragmentationScore(zone z: Int, order: Int) -> UInt64 {
        if order == 0 { return 0 }
        let zp = zone(z)
        let total = zp.pointee.freePages &+ perCPUCount(zone: z)
        if total == 0 { return 0 }
        let usable = freePagesAtOrAbove(zone: z, order: order)
        return (total &- min(usable, total)) &* 100 / total
    }

    /// Largest order with a free block in zone `z`, or -1 when none.
    public func largestFreeOrder(zone z: Int) -> Int {
        var k = Kmem.maxOrder
        while k >= 0 {
            if freeBlocks(zone: z, order: k) > 0 { return k }
            k -= 1
        }
        return -1
    }
}
