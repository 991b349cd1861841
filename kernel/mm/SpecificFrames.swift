/// Allocation of one chosen frame and reservation of ranges (the exokernel seed's
/// `allocate_specific` and reserved ranges).
extension PageAllocator {
    /// Allocates exactly frame `pfn` as an order-0 block. Returns false when the frame is
    /// managed but busy (allocated or reserved), or was quarantined now; throws when it is
    /// not managed memory (nothing changed).
    public func allocateFrame(_ pfn: PFN, migratetype: Migratetype = .unmovable, owner: UInt64 = 0) throws(KmemError) -> Bool {
        var args = OpArguments()
        args.migratetype = migratetype.rawValue
        args.address = pfn.raw
        args.owner = owner
        // every CPU's cache lock too: the frame may sit on any CPU's list (Per-CPU cache locks)
        return try withZoneLocks(zoneMask(pfn, through: pfn), everyCPU: true) { (held: borrowing ZoneLocksHeld) throws(KmemError) -> Bool in
            try logged(.allocateFrame, args, { (_) throws(KmemError) -> Bool in
                guard segmentIndex(containing: pfn) != nil else { throw .outsideManagedMemory(pfn: pfn) }
                guard isFreeOrCached(pfn) else { return false }
                if try quarantineIfPoisoned(pfn, 1, held) { return false }
                guard try claimFrame(pfn, held) else { throw .corruptedFrame(pfn: pfn, flags: meta(pfn).pointee.flags) }
                try markAllocated(pfn, AllocationRequest(order: 0, migratetype: migratetype, owner: owner))
                return true
            }, outcome: { $0 ? (.ok, 1) : (.failed, 0) })
        }
    }

    /// Reserves `count` frames from `start`: all must be managed (else misuse) and free or
    /// cached (else the result is false); a frame whose poison was overwritten is
    /// quarantined and the result is false. Only then does anything change. Reserved frames
    /// count in `reservedPages` and can never be freed.
    public func reserveRange(start: PFN, count: UInt64, owner: UInt64 = 0) throws(KmemError) -> Bool {
        var args = OpArguments()
        args.size = count
        args.address = start.raw
        args.owner = owner
        return try withZoneLocks(zoneMask(start, count: count), everyCPU: true) { (held: borrowing ZoneLocksHeld) throws(KmemError) -> Bool in
            try logged(.reserveRange, args, { (_) throws(KmemError) -> Bool in
                try reserveUnlogged(start: start, count: count, owner: owner, held)
            }, outcome: { $0 ? (.ok, 1) : (.failed, 0) })
        }
    }

    func reserveUnlogged(start: PFN, count: UInt64, owner: UInt64, _ held: borrowing ZoneLocksHeld) throws(KmemError) -> Bool {
        guard count != 0, start.raw <= UInt64.max &- count else { throw .invalidRange(start: start, count: count) }
        let end = start &+ count
        var p = start
        while p < end {
            guard segmentIndex(containing: p) != nil else { throw .outsideManagedMemory(pfn: p) }
            p &+= 1
        }
        p = start
        while p < end {
            if !isFreeOrCached(p) { return false }
            p &+= 1
        }
        if try quarantineIfPoisoned(start, count, held) { return false }
        p = start
        while p < end {
            guard try claimFrame(p, held) else { throw .corruptedFrame(pfn: p, flags: meta(p).pointee.flags) }
            reserveClaimed(p, owner: owner)
            p &+= 1
        }
        return true
    }

    /// Whether a managed frame is free or cached (can be claimed).
    func isFreeOrCached(_ pfn: PFN) -> Bool {
        let st = meta(pfn).pointee.state
        return st.contains(.free) || st.contains(.pcp)
    }

    /// Makes a claimed (unlisted) frame RESERVED (plus `add`) with `owner`, counted as
    /// reserved in its segment and zone.
    func reserveClaimed(_ pfn: PFN, owner: UInt64, add: FrameFlags = []) {
        let m = meta(pfn)
        let seg = segment(Int(m.pointee.segment))
        transition(m, .reserve, head: false, add: add)
        m.pointee.order = 0
        m.pointee.refcount = 0
        m.pointee.owner = owner
        markInUse(seg, pfn, 1, true)
        seg.pointee.reservedPages &+= 1
        zone(of: seg).pointee.reservedPages &+= 1
    }

    /// Takes `pfn` out of the free lists or the per-CPU cache, splitting its free block so
    /// that only `pfn` leaves. Returns false when the frame is not free or cached.
    func claimFrame(_ pfn: PFN, _ held: borrowing ZoneLocksHeld) throws(KmemError) -> Bool {
        debugCheckLocked(held, zoneIndex(of: pfn))
        guard let s = segmentIndex(containing: pfn) else { throw .outsideManagedMemory(pfn: pfn) }
        let seg = segment(s)
        let m = meta(pfn)
        if m.pointee.state.contains(.pcp) {
            let slot = Int(m.pointee.migratetype)
            try unlinkPerCPU(try perCPUHolding(pfn, zone: Int(seg.pointee.zone), slot: slot), pfn, slot)
            transition(m, .claim, head: false, add: m.pointee.state.intersection(.poisonFill))
            return true
        }
        guard m.pointee.state.contains(.free) else { return false }
        // Find the free block containing pfn: its head is pfn rounded down to some order.
        var k = 0
        var head = PFN.noFrame
        while k <= Kmem.maxOrder {
            let h = PFN(pfn.raw & ~(pages(k) &- 1))
            if h < seg.pointee.start { break }
            let hm = meta(h)
            if hm.pointee.state.contains([.free, .head]) && Int(hm.pointee.order) == k { head = h; break }
            k += 1
        }
        guard !head.isNoFrame else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
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
        transition(m, .claim, head: false, add: m.pointee.state.intersection(.poisonFill))
        return true
    }
}

extension PageAllocator {
    /// Gives back `count` frames from `start` that `reserveRange` reserved: each, in PFN
    /// order, is freed to the buddy lists as an order-0 block. Misuse (nothing changed) when
    /// any frame is not such a reservation (quarantined frames stay out of use).
    public func unreserve(start: PFN, count: UInt64) throws(KmemError) {
        var args = OpArguments()
        args.address = start.raw
        args.size = count
        try withZoneLocks(zoneMask(start, count: count)) { (held: borrowing ZoneLocksHeld) throws(KmemError) in
          try logged(.unreserve, args, { (_) throws(KmemError) in
            guard count != 0, start.raw <= UInt64.max &- count else { throw .invalidRange(start: start, count: count) }
            let end = start &+ count
            var p = start
            while p < end {
                guard segmentIndex(containing: p) != nil else { throw .outsideManagedMemory(pfn: p) }
                let m = meta(p)
                guard m.pointee.state.contains(.reserved) && !m.pointee.state.contains(.poisoned) else {
                    throw .notReserved(pfn: p, flags: m.pointee.flags)
                }
                p &+= 1
            }
            let poison = poisoning
            p = start
            while p < end {
                let m = meta(p)
                let seg = segment(Int(m.pointee.segment))
                if poison { fillPoison(p) }
                transition(m, .unreserve, head: false, add: poison ? .poisonFill : [])
                m.pointee.owner = 0
                markInUse(seg, p, 1, false)
                seg.pointee.reservedPages &-= 1
                zone(of: seg).pointee.reservedPages &-= 1
                try freeToBuddy(seg, p, 0, held)
                p &+= 1
            }
          }, outcome: { (.ok, 1) })
        }
    }
}
