/// Allocation: zone selection with watermarks and lowmem reserve, the buddy lists of each
/// segment, splitting, and migratetype fallback with pageblock stealing.
///
/// Stealing rule (documented contract, checked by the toolkit's model): when no list of
/// the requested migratetype in a zone has a block large enough, the allocator takes the
/// *largest* block of the other migratetype (searching from `maxOrder` down). If that
/// block is a pageblock or larger, every pageblock it covers is retagged to the requested
/// migratetype. If it is smaller, the whole pageblock containing it is claimed (retagged,
/// and every free block inside it moved to the requested migratetype's lists) when the
/// block is at least half a pageblock's order (order ≥ 4) or the request is unmovable;
/// otherwise the block is taken alone and its split remainders stay on the donor's lists.
extension PageAllocator {
    /// Allocates a block as `request` describes. Returns its first PFN, or `nil` when no
    /// allowed zone can satisfy it above its watermark. Throws only for misuse (bad order
    /// or alignment) or corruption found on the way.
    public func allocate(_ request: AllocationRequest) throws(KmemError) -> UInt64? {
        guard request.order >= 0 && request.order <= Kmem.maxOrder else { throw .invalidOrder(order: request.order) }
        guard request.alignment != 0 && request.alignment & (request.alignment &- 1) == 0 else {
            throw .invalidAlignment(pages: request.alignment)
        }
        beginOperation()
        let highest = min(request.zone.highestZone, ZoneKind.count - 1)
        var pass = 0
        while pass < 3 {
            var z = highest
            while z >= 0 {
                let zone = self.zone(z)
                if zone.pointee.managedPages != 0 && watermarkOK(zone, request, highest: highest, pass: pass) {
                    if let pfn = try allocate(from: zone, request) { return pfn }
                }
                z -= 1
            }
            // Before giving up on the min watermark, return cached order-0 frames to the
            // buddy lists so they can merge (Linux drains pcp lists on failure).
            if pass == 1 {
                var dz = highest
                while dz >= 0 { try drainPerCPU(zone(dz), all: true); dz -= 1 }
            }
            pass += 1
        }
        return nil
    }

    /// Pass 0 checks the low watermark, passes 1 and 2 the min watermark; both plus the
    /// zone's lowmem reserve for requests that could have used a higher zone.
    func watermarkOK(_ zone: UnsafeMutablePointer<Zone>, _ request: AllocationRequest, highest: Int, pass: Int) -> Bool {
        if request.ignoreWatermarks { return true }
        let mark = (pass == 0 ? zone.pointee.watermarkLow : zone.pointee.watermarkMin)
            &+ zone.pointee.lowmemReserve[highest]
        return zone.pointee.freePages >= mark &+ pages(request.order)
    }

    /// One zone: order-0 unaligned requests go through the per-CPU cache; the rest take
    /// from the buddy lists, own migratetype first, then by stealing.
    func allocate(from zone: UnsafeMutablePointer<Zone>, _ request: AllocationRequest) throws(KmemError) -> UInt64? {
        if request.order == 0 && request.alignment == 1 {
            guard let pfn = try perCPUAllocate(zone, request.migratetype) else { return nil }
            try markAllocated(pfn, request)
            return pfn
        }
        guard let pfn = try buddyAllocate(zone, request) else { return nil }
        try markAllocated(pfn, request)
        return pfn
    }

    /// Takes a block from the zone's buddy lists (not yet marked allocated).
    func buddyAllocate(_ zone: UnsafeMutablePointer<Zone>, _ request: AllocationRequest) throws(KmemError) -> UInt64? {
        let first = Int(zone.pointee.firstSegment)
        let end = first + Int(zone.pointee.segmentCount)
        let mt = Int(request.migratetype.rawValue)
        var s = first
        while s < end {
            if let pfn = try takeFromSegment(segment(s), request, mt) { return pfn }
            s += 1
        }
        s = first
        while s < end {
            if let pfn = try stealFromSegment(segment(s), request) { return pfn }
            s += 1
        }
        return nil
    }

    /// Smallest block of `mt` in the segment that is large enough and aligned, split down.
    func takeFromSegment(_ seg: UnsafeMutablePointer<Segment>, _ request: AllocationRequest, _ mt: Int) throws(KmemError) -> UInt64? {
        var k = request.order
        while k <= Kmem.maxOrder {
            if let pfn = try findBlock(seg, mt, k, alignment: request.alignment) {
                try removeFree(seg, pfn)
                split(seg, pfn, from: k, to: request.order, mt)
                return pfn
            }
            k += 1
        }
        return nil
    }

    /// Largest block of the other migratetype, stolen by the rule in this file's header.
    func stealFromSegment(_ seg: UnsafeMutablePointer<Segment>, _ request: AllocationRequest) throws(KmemError) -> UInt64? {
        let want = Int(request.migratetype.rawValue)
        let donor = Int(request.migratetype.fallback.rawValue)
        var k = Kmem.maxOrder
        while k >= request.order {
            if let pfn = try findBlock(seg, donor, k, alignment: request.alignment) {
                var mt = donor
                if k >= Kmem.pageblockOrder {
                    retagPageblocks(seg, pfn, k, want)
                    mt = want
                } else if k >= Kmem.pageblockOrder / 2 || request.migratetype == .unmovable {
                    // moves the found block to `want`'s list too, so it is removed from there
                    try claimPageblock(seg, pfn, want)
                    mt = want
                }
                try removeFree(seg, pfn)
                split(seg, pfn, from: k, to: request.order, mt)
                return pfn
            }
            k -= 1
        }
        return nil
    }

    /// First block on list (`mt`, `order`) whose PFN is a multiple of `alignment`.
    /// Bounded by the list's count.
    func findBlock(_ seg: UnsafeMutablePointer<Segment>, _ mt: Int, _ order: Int, alignment: UInt64) throws(KmemError) -> UInt64? {
        let idx = freeListIndex(mt, order)
        let count = seg.pointee.freeCounts[idx]
        if count == 0 { return nil }
        var pfn = seg.pointee.freeHeads[idx]
        if alignment <= pages(order) {
            _ = try linked(pfn, from: pfn)
            return pfn
        }
        var steps: UInt64 = 0
        while pfn != Kmem.none && steps < count {
            let m = try linked(pfn, from: pfn)
            if pfn & (alignment &- 1) == 0 { return pfn }
            pfn = m.pointee.next
            steps &+= 1
        }
        return nil
    }

    /// Splits the block at `pfn` from order `high` down to `low`, putting each upper half
    /// back on list `mt`; the lower part (at `pfn`) is left to the caller.
    func split(_ seg: UnsafeMutablePointer<Segment>, _ pfn: UInt64, from high: Int, to low: Int, _ mt: Int) {
        var k = high
        while k > low {
            k -= 1
            pushFree(seg, pfn &+ pages(k), k, mt)
        }
    }

    /// Retags the pageblock containing `pfn` to `mt` and moves every free block inside it
    /// (within the segment) to `mt`'s lists. Bounded by the pageblock's size.
    func claimPageblock(_ seg: UnsafeMutablePointer<Segment>, _ pfn: UInt64, _ mt: Int) throws(KmemError) {
        let start = max(pfn & ~(Kmem.pageblockPages &- 1), seg.pointee.startPFN)
        let end = min((pfn | (Kmem.pageblockPages &- 1)) &+ 1, seg.pointee.endPFN)
        pageblockTag(seg, start).pointee = UInt8(mt)
        var p = start
        while p < end {
            let m = meta(p)
            if m.pointee.state.contains([.free, .head]) && m.pointee.order <= UInt8(Kmem.pageblockOrder) {
                let order = Int(m.pointee.order)
                if Int(m.pointee.migratetype) != mt {
                    try removeFree(seg, p)
                    pushFree(seg, p, order, mt)
                }
                p &+= pages(order)
            } else {
                p &+= 1
            }
        }
    }

    /// Marks the block at `pfn` allocated: every frame ALLOCATED (head also HEAD with the
    /// order, migratetype and refcount 1), allocation bits set, poison checked.
    func markAllocated(_ pfn: UInt64, _ request: AllocationRequest) throws(KmemError) {
        let m = meta(pfn)
        let segIndex = Int(m.pointee.segment)
        guard segIndex < segmentCount else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
        let seg = segment(segIndex)
        let n = pages(request.order)
        let use: FrameFlags = request.migratetype == .unmovable ? .kernel : .user
        var i: UInt64 = 0
        while i < n {
            let f = meta(pfn &+ i)
            if f.pointee.state.contains(.poisoned) { try checkPoison(pfn &+ i) }
            var st = f.pointee.state.subtracting(FrameFlags.stateMask)
            st.subtract([.head, .poisoned, .kernel, .user, .slab])
            st.formUnion([.allocated, use])
            if i == 0 { st.insert(.head) }
            f.pointee.state = st
            f.pointee.order = i == 0 ? UInt8(request.order) : 0
            f.pointee.migratetype = request.migratetype.rawValue
            f.pointee.refcount = i == 0 ? 1 : 0
            f.pointee.owner = request.owner
            f.pointee.lastSeq = sequence
            f.pointee.next = Kmem.none
            f.pointee.prev = Kmem.none
            i &+= 1
        }
        markInUse(seg, pfn, n, true)
        zone(of: seg).pointee.allocatedPages &+= n
    }
}
