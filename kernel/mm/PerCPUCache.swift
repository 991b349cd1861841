/// The order-0 per-CPU cache of each zone (see `PerCPUPages`).
extension PageAllocator {
    /// Takes a frame from the zone's per-CPU list of `mt`, refilling `batch` frames from
    /// the buddy lists first when it is empty. The frame is not yet marked allocated.
    func perCPUAllocate(_ zone: UnsafeMutablePointer<Zone>, _ mt: Migratetype) throws(KmemError) -> UInt64? {
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
        return try popPerCPU(zone, slot)
    }

    /// Parks a freed frame (already FREE, unlisted) on the per-CPU list of its pageblock's
    /// migratetype, draining a batch to the buddy lists when the cache is above `high`.
    func perCPUFree(_ zone: UnsafeMutablePointer<Zone>, _ seg: UnsafeMutablePointer<Segment>, _ pfn: UInt64) throws(KmemError) {
        pushPerCPU(zone, pfn, pageblockMigratetype(segment: seg, pfn: pfn))
        if zone.pointee.pcp.count > zone.pointee.pcp.high {
            try drainUnlogged(zone, all: false)
        }
    }

    /// Returns every frame of the zone's per-CPU lists to the buddy lists (logged operation).
    public func drainPerCPU(_ zone: UnsafeMutablePointer<Zone>, all: Bool) throws(KmemError) {
        let seq = beginOperation()
        let z = UInt8(truncatingIfNeeded: zone.pointee.kind)
        do {
            try drainUnlogged(zone, all: all)
            record(seq, .drain, status: .ok, order: all ? 1 : 0, zone: z, result: 1)
        } catch {
            record(seq, .drain, status: .misuse, order: all ? 1 : 0, zone: z)
            throw error
        }
    }

    /// Returns `batch` frames (or all, when `all`) from the zone's per-CPU lists to the buddy lists.
    func drainUnlogged(_ zone: UnsafeMutablePointer<Zone>, all: Bool) throws(KmemError) {
        var left = all ? zone.pointee.pcp.count : max(zone.pointee.pcp.batch, 1)
        var slot = 0
        while left > 0 && slot < Kmem.migratetypeSlots {
            if zone.pointee.pcp.counts[slot] == 0 { slot += 1; continue }
            let pfn = try popPerCPU(zone, slot)
            let m = meta(pfn)
            let s = Int(m.pointee.segment)
            guard s < segmentCount else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
            var st = m.pointee.state.subtracting(FrameFlags.stateMask)
            st.insert(.free)
            m.pointee.state = st
            try freeToBuddy(segment(s), pfn, 0)
            left &-= 1
        }
    }

    func pushPerCPU(_ zone: UnsafeMutablePointer<Zone>, _ pfn: UInt64, _ slot: Int) {
        let m = meta(pfn)
        linkFront(pfn, head: perCPUHead(zone, slot))
        zone.pointee.pcp.counts[slot] &+= 1
        zone.pointee.pcp.count &+= 1
        var st = m.pointee.state.subtracting(FrameFlags.stateMask)
        st.remove(.head)
        st.insert(.pcp)
        m.pointee.state = st
        m.pointee.order = 0
        m.pointee.migratetype = UInt8(slot)
        m.pointee.lastSeq = sequence
    }

    func popPerCPU(_ zone: UnsafeMutablePointer<Zone>, _ slot: Int) throws(KmemError) -> UInt64 {
        let pfn = zone.pointee.pcp.heads[slot]
        try unlinkPerCPU(zone, pfn, slot)
        return pfn
    }

    /// Unlinks `pfn` from the per-CPU list `slot`, checking its neighbours point back.
    func unlinkPerCPU(_ zone: UnsafeMutablePointer<Zone>, _ pfn: UInt64, _ slot: Int) throws(KmemError) {
        let m = try linked(pfn, from: pfn)
        guard m.pointee.state.contains(.pcp) else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
        try unlink(pfn, head: perCPUHead(zone, slot))
        zone.pointee.pcp.counts[slot] &-= 1
        zone.pointee.pcp.count &-= 1
    }
}
