/// The order-0 per-CPU cache of each zone (see `PerCPUPages`).
extension PageAllocator {
    /// The frame the zone's per-CPU list of `mt` would hand out (its first), refilling
    /// `batch` frames from the buddy lists first when the list is empty. The frame stays on
    /// the list: `take` unlinks it once its poison is checked.
    func perCPUCandidate(_ zone: UnsafeMutablePointer<Zone>, _ mt: Migratetype) throws(KmemError) -> PFN? {
        let slot = Int(mt.rawValue)
        if zone.pointee.pcp.counts[slot] == 0 {
            let refill = AllocationRequest(order: 0, migratetype: mt)
            var n: UInt64 = 0
            while n < max(zone.pointee.pcp.batch, 1) {
                guard let pfn = try buddyAllocate(zone, refill) else { break }
                pushPerCPU(zone, pfn, slot)
                n &+= 1
            }
        }
        guard zone.pointee.pcp.counts[slot] != 0 else { return nil }
        let pfn = PFN(zone.pointee.pcp.heads[slot])
        _ = try linked(pfn, from: pfn)
        return pfn
    }

    /// Parks a freed frame (already FREE, unlisted) on the per-CPU list of its pageblock's
    /// migratetype, draining a batch to the buddy lists when the cache is above `high`.
    func perCPUFree(_ zone: UnsafeMutablePointer<Zone>, _ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN,
                    _ held: borrowing ZoneLocksHeld) throws(KmemError) {
        pushPerCPU(zone, pfn, pageblockMigratetype(segment: seg, pfn: pfn))
        if zone.pointee.pcp.count > zone.pointee.pcp.high {
            try drainUnlogged(zone, all: false, held)
        }
    }

    /// Returns `batch` frames (or all, when `all`) of the zone's per-CPU lists to the buddy
    /// lists (logged operation).
    public func drainPerCPU(_ zone: UnsafeMutablePointer<Zone>, all: Bool) throws(KmemError) {
        var args = OpArguments()
        args.order = all ? 1 : 0
        args.zone = UInt8(truncatingIfNeeded: zone.pointee.kind)
        try withZoneLocks(1 << UInt32(truncatingIfNeeded: zoneBase.distance(to: zone))) { (held: borrowing ZoneLocksHeld) throws(KmemError) in
            try logged(.drain, args, { (_) throws(KmemError) in try drainUnlogged(zone, all: all, held) }, outcome: { (.ok, 1) })
        }
    }

    /// Returns `batch` frames (or all, when `all`) of the zone's per-CPU lists to the buddy
    /// lists: the coldest first (list tails), round-robin over the migratetype slots from
    /// `drainCursor`, as Linux's `free_pcppages_bulk`. Bounded by the cache's count and the
    /// slot count.
    func drainUnlogged(_ zone: UnsafeMutablePointer<Zone>, all: Bool, _ held: borrowing ZoneLocksHeld) throws(KmemError) {
        debugCheckLocked(held, zoneBase.distance(to: zone))
        var left = all ? zone.pointee.pcp.count : max(zone.pointee.pcp.batch, 1)
        var idle = 0  // consecutive empty slots: a full round of them means the lists are empty
        while left > 0 && zone.pointee.pcp.count > 0 && idle < Kmem.migratetypeSlots {
            let slot = Int(zone.pointee.pcp.drainCursor % UInt64(Kmem.migratetypeSlots))
            zone.pointee.pcp.drainCursor = UInt64((slot + 1) % Kmem.migratetypeSlots)
            if zone.pointee.pcp.counts[slot] == 0 { idle += 1; continue }
            idle = 0
            let pfn = PFN(zone.pointee.pcp.tails[slot])
            try unlinkPerCPU(zone, pfn, slot)
            let m = meta(pfn)
            let s = Int(m.pointee.segment)
            guard s < segmentCount else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
            transition(m, .drain, head: false, add: m.pointee.state.intersection(.poisonFill))
            try freeToBuddy(segment(s), pfn, 0, held)
            left &-= 1
        }
    }

    func pushPerCPU(_ zone: UnsafeMutablePointer<Zone>, _ pfn: PFN, _ slot: Int) {
        let m = meta(pfn)
        linkFront(pfn, head: perCPUHead(zone, slot), tail: perCPUTail(zone, slot))
        zone.pointee.pcp.counts[slot] &+= 1
        zone.pointee.pcp.count &+= 1
        transition(m, .cache, head: false, add: m.pointee.state.intersection(.poisonFill))
        m.pointee.order = 0
        m.pointee.migratetype = UInt8(slot)
    }

    /// Unlinks `pfn` from the per-CPU list `slot`, checking its neighbours point back.
    func unlinkPerCPU(_ zone: UnsafeMutablePointer<Zone>, _ pfn: PFN, _ slot: Int) throws(KmemError) {
        let m = try linked(pfn, from: pfn)
        guard m.pointee.state.contains(.pcp) else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
        try unlink(pfn, head: perCPUHead(zone, slot), tail: perCPUTail(zone, slot))
        zone.pointee.pcp.counts[slot] &-= 1
        zone.pointee.pcp.count &-= 1
    }
}
