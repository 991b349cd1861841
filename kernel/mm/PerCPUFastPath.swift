/// The per-CPU cache hit, done in one pass over the few words it changes: an order-0
/// `allocate` served by a non-empty list of the running CPU's per-CPU cache, and an order-0 `free` that parks the frame
/// without a drain (Linux's `rmqueue_pcplist` / `free_unref_page` fast paths).
///
/// Each gives exactly the general path's result, state and log entry (kernel/README.md,
/// "Allocation" and "Freeing"): the same list change, the same FrameMeta words, the same
/// counters and allocation bit, one `allocate` or `free` entry. Every check runs before the
/// first change; anything a hit does not cover — page poisoning on, an empty list, a drain
/// due, any misuse, a link that does not point back, a frame in an unexpected state —
/// returns `nil`/`false` with nothing changed, and the general path runs and reports it as
/// it always did.
extension PageAllocator {
    /// The frame an order-0 `allocate` takes from a per-CPU list, taken and logged; `nil`
    /// (nothing changed, no sequence number used) when the request is not such a hit.
    @inline(__always)
    func allocatePerCPUHit(_ request: AllocationRequest, _ held: borrowing ZoneLocksHeld) -> PFN? {
        guard request.order == 0 && request.alignment == 1 && !poisoning else { return nil }
        // Pass 0 chooses from the first zone, highest first, that has memory and passes its
        // low watermark; the general path refills that zone's list when it is empty.
        let highest = min(request.zone.highestZone, ZoneKind.count - 1)
        var z = highest
        var zone = self.zone(z)
        while zone.pointee.managedPages == 0 || !watermarkOK(zone, request, highest: highest, pass: 0) {
            if z == 0 { return nil }
            z -= 1
            zone = self.zone(z)
        }
        let slot = Int(request.migratetype.rawValue)
        let pcp = localPerCPU(zone)
        guard pcp.pointee.counts[slot] != 0 else { return nil }
        let pfn = PFN(pcp.pointee.heads[slot])
        guard pfn < frameEnd else { return nil }
        let m = meta(pfn)
        let flags = m.pointee.state
        guard flags.intersection(FrameFlags.stateMask) == .pcp && m.pointee.prevFrame.isNoFrame else { return nil }
        let next = m.pointee.nextFrame
        if next.isNoFrame {
            guard pcp.pointee.tails[slot] == pfn.raw else { return nil }
        } else {
            guard next < frameEnd && meta(next).pointee.prevFrame == pfn else { return nil }
        }
        let s = Int(m.pointee.segment)
        guard s < segmentCount else { return nil }
        let seg = segment(s)

        let op = cpuOperation
        let seq = beginOperation(op)
        // Off the list (its head).
        pcp.pointee.heads[slot] = next.raw
        if next.isNoFrame { pcp.pointee.tails[slot] = Kmem.none } else { meta(next).pointee.prevFrame = .noFrame }
        pcp.pointee.counts[slot] &-= 1
        pcp.pointee.count &-= 1
        // PCP → ALLOCATED|HEAD: the `handOut` move (`transition` and `markAllocated` for one
        // frame); the guard above, state exactly PCP, is the move's source check.
        var st = flags.subtracting([.free, .allocated, .reserved, .pcp, .head, .kernel, .user, .slab, .poisonFill])
        st.formUnion([.allocated, .head, request.migratetype == .unmovable ? .kernel : .user])
        m.pointee.state = st
        m.pointee.order = 0
        m.pointee.migratetype = request.migratetype.rawValue
        m.pointee.refcount = 1
        m.pointee.owner = request.owner
        m.pointee.nextFrame = .noFrame
        m.pointee.prevFrame = .noFrame
        m.pointee.lastSeq = seq
        setInUseBit(seg, pfn, true)
        self.zone(of: seg).pointee.allocatedPages &+= 1
        record(seq, .allocate, status: .ok, order: 0, migratetype: request.migratetype.rawValue,
               zone: request.zone.rawValue, flags: request.ignoreWatermarks ? 1 : 0, alignment: 1,
               result: pfn.raw, owner: request.owner)
        leaveBusy(op)
        return pfn
    }

    /// Frees an order-0 block onto its zone's per-CPU list and logs it, when that needs no
    /// drain; `false` (nothing changed, no sequence number used) otherwise.
    @inline(__always)
    func freePerCPUHit(_ pfn: PFN, order: Int, heap: Bool, _ held: borrowing ZoneLocksHeld) -> Bool {
        guard order == 0 && !poisoning && pfn < frameEnd else { return false }
        let m = meta(pfn)
        let s = Int(m.pointee.segment)
        guard s < segmentCount else { return false }
        let seg = segment(s)
        guard seg.pointee.contains(pfn) else { return false }
        let flags = m.pointee.state
        guard flags.intersection([.free, .allocated, .reserved, .pcp, .head, .slab]) == [.allocated, .head],
              m.pointee.order == 0, m.pointee.refcount == 1,
              heap || m.pointee.owner != Kmem.largeHeapOwner else { return false }
        let zone = zone(of: seg)
        let pcp = localPerCPU(zone)
        guard pcp.pointee.count < pcp.pointee.high else { return false }  // a drain follows
        let slot = pageblockMigratetype(segment: seg, pfn: pfn)

        let op = cpuOperation
        let seq = beginOperation(op)
        // ALLOCATED → FREE → PCP: the `free` then `cache` moves (`markFreed`, then
        // `pushPerCPU`); the guard above, state exactly ALLOCATED|HEAD, is their source check.
        var st = flags.subtracting([.free, .allocated, .reserved, .pcp, .head, .kernel, .user, .slab])
        st.insert(.pcp)
        m.pointee.state = st
        m.pointee.order = 0
        m.pointee.migratetype = UInt8(slot)
        m.pointee.refcount = 0
        m.pointee.owner = 0
        m.pointee.lastSeq = seq
        setInUseBit(seg, pfn, false)
        zone.pointee.allocatedPages &-= 1
        linkFront(pfn, head: perCPUHead(pcp, slot), tail: perCPUTail(pcp, slot))
        pcp.pointee.counts[slot] &+= 1
        pcp.pointee.count &+= 1
        record(seq, .free, status: .ok, order: 0, address: pfn.raw, result: 1)
        leaveBusy(op)
        return true
    }

    /// Sets or clears the allocation-bitmap bit of one frame (`markInUse` of one frame).
    @inline(__always)
    func setInUseBit(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ inUse: Bool) {
        let bit = pfn.raw &- seg.pointee.startPFN
        let w = words(seg.pointee.allocBitmap) + Int(bit >> 6)
        if inUse { w.pointee |= 1 &<< (bit & 63) } else { w.pointee &= ~(1 &<< (bit & 63)) }
    }
}
