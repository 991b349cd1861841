/// The order-0 per-CPU caches: one `PerCPUPages` per CPU per zone (kernel/README.md "Per-CPU
/// caches"). An operation refills, hands out from, parks on and drains the running CPU's
/// cache (`localPerCPU`); only a claim (`claimFrame`) takes a frame off another CPU's list.
/// Every change happens under the zone's lock (the callers hold `ZoneLocksHeld`).
extension PageAllocator {
    /// The frame the running CPU's per-CPU list of `mt` in `zone` would hand out (its first),
    /// refilling `batch` frames from the buddy lists first when the list is empty. The frame
    /// stays on the list: `take` unlinks it once its poison is checked.
    func perCPUCandidate(_ zone: UnsafeMutablePointer<Zone>, _ mt: Migratetype) throws(KmemError) -> PFN? {
        let slot = Int(mt.rawValue)
        let pcp = localPerCPU(zone)
        if pcp.pointee.counts[slot] == 0 {
            let refill = AllocationRequest(order: 0, migratetype: mt)
            var n: UInt64 = 0
            while n < max(pcp.pointee.batch, 1) {
                guard let pfn = try buddyAllocate(zone, refill) else { break }
                pushPerCPU(pcp, pfn, slot)
                n &+= 1
            }
        }
        guard pcp.pointee.counts[slot] != 0 else { return nil }
        let pfn = PFN(pcp.pointee.heads[slot])
        _ = try linked(pfn, from: pfn)
        return pfn
    }

    /// Parks a freed frame (already FREE, unlisted) on the running CPU's per-CPU list of its
    /// pageblock's migratetype, draining a batch to the buddy lists when that cache is above `high`.
    func perCPUFree(_ zone: UnsafeMutablePointer<Zone>, _ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN,
                    _ held: borrowing ZoneLocksHeld) throws(KmemError) {
        let pcp = localPerCPU(zone)
        pushPerCPU(pcp, pfn, pageblockMigratetype(segment: seg, pfn: pfn))
        if pcp.pointee.count > pcp.pointee.high {
            try drainUnlogged(zone, all: false, held)
        }
    }

    /// Returns `batch` frames (or all, when `all`) of the running CPU's per-CPU lists of
    /// `zone` to the buddy lists (logged operation). Other CPUs' caches are left alone: only
    /// their own CPU drains them.
    public func drainPerCPU(_ zone: UnsafeMutablePointer<Zone>, all: Bool) throws(KmemError) {
        try withZoneLocks(1 << UInt32(truncatingIfNeeded: zoneBase.distance(to: zone))) { (held: borrowing ZoneLocksHeld) throws(KmemError) in
            // the zone's fields are read under its lock (another CPU may be changing the zone)
            var args = OpArguments()
            args.order = all ? 1 : 0
            args.zone = UInt8(truncatingIfNeeded: zone.pointee.kind)
            return try logged(.drain, args, { (_) throws(KmemError) in try drainUnlogged(zone, all: all, held) }, outcome: { (.ok, 1) })
        }
    }

    /// Returns `batch` frames (or all, when `all`) of the running CPU's per-CPU lists of
    /// `zone` to the buddy lists: the coldest first (list tails), round-robin over the
    /// migratetype slots from `drainCursor`, as Linux's `free_pcppages_bulk`. Bounded by the
    /// cache's count and the slot count.
    func drainUnlogged(_ zone: UnsafeMutablePointer<Zone>, all: Bool, _ held: borrowing ZoneLocksHeld) throws(KmemError) {
        debugCheckLocked(held, zoneBase.distance(to: zone))
        let pcp = localPerCPU(zone)
        var left = all ? pcp.pointee.count : max(pcp.pointee.batch, 1)
        var idle = 0  // consecutive empty slots: a full round of them means the lists are empty
        while left > 0 && pcp.pointee.count > 0 && idle < Kmem.migratetypeSlots {
            let slot = Int(pcp.pointee.drainCursor % UInt64(Kmem.migratetypeSlots))
            pcp.pointee.drainCursor = UInt64((slot + 1) % Kmem.migratetypeSlots)
            if pcp.pointee.counts[slot] == 0 { idle += 1; continue }
            idle = 0
            let pfn = PFN(pcp.pointee.tails[slot])
            try unlinkPerCPU(pcp, pfn, slot)
            let m = meta(pfn)
            let s = Int(m.pointee.segment)
            guard s < segmentCount else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
            transition(m, .drain, head: false, add: m.pointee.state.intersection(.poisonFill))
            try freeToBuddy(segment(s), pfn, 0, held)
            left &-= 1
        }
    }

    func pushPerCPU(_ pcp: UnsafeMutablePointer<PerCPUPages>, _ pfn: PFN, _ slot: Int) {
        let m = meta(pfn)
        linkFront(pfn, head: perCPUHead(pcp, slot), tail: perCPUTail(pcp, slot))
        pcp.pointee.counts[slot] &+= 1
        pcp.pointee.count &+= 1
        transition(m, .cache, head: false, add: m.pointee.state.intersection(.poisonFill))
        m.pointee.order = 0
        m.pointee.migratetype = UInt8(slot)
    }

    /// Unlinks `pfn` from list `slot` of the cache `pcp`, checking its neighbours point back.
    func unlinkPerCPU(_ pcp: UnsafeMutablePointer<PerCPUPages>, _ pfn: PFN, _ slot: Int) throws(KmemError) {
        let m = try linked(pfn, from: pfn)
        guard m.pointee.state.contains(.pcp) else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
        try unlink(pfn, head: perCPUHead(pcp, slot), tail: perCPUTail(pcp, slot))
        pcp.pointee.counts[slot] &-= 1
        pcp.pointee.count &-= 1
    }

    /// The cache (any CPU's) whose list `slot` of zone `z` holds the cached frame `pfn`: the
    /// list's head is found by walking `prev` links back from the frame, bounded by the
    /// largest cache count, and matched against every CPU's head. A walk that leaves the
    /// metadata, loops, or ends at a head no CPU has is corruption.
    func perCPUHolding(_ pfn: PFN, zone z: Int, slot: Int) throws(KmemError) -> UnsafeMutablePointer<PerCPUPages> {
        guard z < ZoneKind.count, slot < Kmem.migratetypeSlots else { throw .corruptedFrame(pfn: pfn, flags: meta(pfn).pointee.flags) }
        var bound: UInt64 = 0
        for c in 0..<Kmem.maxCPUs { bound = max(bound, perCPU(z, cpu: c).pointee.counts[slot]) }
        var head = pfn
        var steps: UInt64 = 0
        while true {
            let prev = try linked(head, from: pfn).pointee.prevFrame
            if prev.isNoFrame { break }
            steps &+= 1
            guard steps < bound, prev < frameEnd else { throw .corruptedList(pfn: head, link: prev.raw) }
            head = prev
        }
        for c in 0..<Kmem.maxCPUs where perCPU(z, cpu: c).pointee.heads[slot] == head.raw { return perCPU(z, cpu: c) }
        throw .corruptedList(pfn: head, link: Kmem.none)
    }
}
