/// Count-based allocation (buddy_slab_allocator's `alloc_pages(count, align)`, Linux's
/// `alloc_pages_exact`): `count` contiguous frames from the smallest block that holds them,
/// the unneeded tail given back at once.
///
/// The kept frames are maximal aligned blocks from the first PFN up, each an allocated
/// block of its own; `freeCount` frees exactly that decomposition.
extension PageAllocator {
    /// Allocates `count` contiguous frames (1…2^11) starting at a multiple of `alignment`
    /// pages, as `allocate` would a block of the smallest order that holds them. Returns the
    /// first PFN, or nil.
    public func allocateCount(_ count: UInt64, migratetype: Migratetype = .unmovable, zone: ZoneConstraint = .any,
                              alignment: UInt64 = 1, owner: UInt64 = 0) throws(KmemError) -> PFN? {
        let order = Self.orderHolding(count)
        var args = OpArguments()
        args.order = order
        args.migratetype = migratetype.rawValue
        args.zone = zone.rawValue
        args.alignment = alignment
        args.size = count
        args.owner = owner
        return try withZoneLocks(zoneMask(upTo: zone.highestZone)) { (held: borrowing ZoneLocksHeld) throws(KmemError) -> PFN? in
            try logged(.allocateCount, args, { (_) throws(KmemError) -> PFN? in
                guard count >= 1 && count <= pages(Kmem.maxOrder) else { throw .invalidCount(count: count) }
                let request = AllocationRequest(order: order, migratetype: migratetype, zone: zone, alignment: alignment, owner: owner)
                guard let pfn = try allocateUnlogged(request, held) else { return nil }
                try trimToCount(pfn, order: order, count: count, request)
                return pfn
            }, outcome: { $0 == nil ? (.failed, Kmem.none) : (.ok, $0!.raw) })
        }
    }

    /// Frees `count` frames from `pfn` that `allocateCount` handed out: every piece of the
    /// decomposition is checked before any is freed.
    public func freeCount(_ pfn: PFN, count: UInt64) throws(KmemError) {
        var args = OpArguments()
        args.address = pfn.raw
        args.size = count
        try withZoneLocks(zoneMask(pfn, count: count)) { (held: borrowing ZoneLocksHeld) throws(KmemError) in
          try logged(.freeCount, args, { (_) throws(KmemError) in
            guard count >= 1 && count <= pages(Kmem.maxOrder) && pfn.raw <= UInt64.max &- count else {
                throw .invalidCount(count: count)
            }
            var p = pfn
            let end = pfn &+ count
            while p < end {   // checks only
                let k = Self.largestPiece(p, end)
                guard let s = segmentIndex(containing: p) else { throw .outsideManagedMemory(pfn: p) }
                let m = meta(p)
                let st = m.pointee.state
                guard st.contains([.allocated, .head]) && !st.contains(.slab) && Int(m.pointee.order) == k
                        && m.pointee.refcount == 1 && m.pointee.owner != Kmem.largeHeapOwner
                        && p &+ pages(k) <= segment(s).pointee.end else {
                    throw .countMismatch(pfn: p, count: count)
                }
                p &+= pages(k)
            }
            p = pfn
            while p < end {
                let k = Self.largestPiece(p, end)
                try freeUnlogged(p, order: k, heap: false, held)
                p &+= pages(k)
            }
          }, outcome: { (.ok, 1) })
        }
    }

    /// The smallest order whose block holds `count` frames (11 for anything larger).
    static func orderHolding(_ count: UInt64) -> Int {
        var k = 0
        while k < Kmem.maxOrder && pages(k) < count { k += 1 }
        return k
    }

    /// The order of the largest block that starts at `p` (aligned) and ends by `end`.
    static func largestPiece(_ p: PFN, _ end: PFN) -> Int {
        var k = Kmem.maxOrder
        while k > 0 && (!p.isAligned(order: k) || p &+ pages(k) > end) { k -= 1 }
        return k
    }

    /// Turns the allocated block `[pfn, pfn + 2^order)` into the kept pieces of `count`
    /// frames and gives the tail back to the free lists.
    func trimToCount(_ pfn: PFN, order: Int, count: UInt64, _ request: AllocationRequest) throws(KmemError) {
        let end = pfn &+ pages(order)
        let keep = pfn &+ count
        guard keep < end else { return }
        let m = meta(pfn)
        let seg = segment(Int(m.pointee.segment))
        // The kept part: maximal aligned blocks, each allocated on its own.
        var p = pfn
        while p < keep {
            let k = Self.largestPiece(p, keep)
            let h = meta(p)
            transition(h, .countTrim, head: true, add: h.pointee.state.intersection([.kernel, .user]))
            h.pointee.order = UInt8(k)
            h.pointee.refcount = 1
            p &+= pages(k)
        }
        // The tail: maximal aligned blocks from the low end up, free on their pageblock's list.
        markFreed(seg, keep, count: end &- keep)
        p = keep
        while p < end {
            let k = Self.largestPiece(p, end)
            pushFree(seg, p, k, pageblockMigratetype(segment: seg, pfn: p))
            p &+= pages(k)
        }
    }
}
