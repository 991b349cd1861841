/// Allocation: zone selection with watermarks and lowmem reserve, the smallest fit across a
/// zone's segments, splitting, and migratetype fallback with pageblock stealing. The rules
/// are kernel/README.md's "Allocation" and "Page poisoning" clauses, in that order.
///
/// An allocation first *chooses* what it hands out (`Candidate`), changing nothing but
/// per-CPU refills and pass-2 drains; it then checks the poison of the chosen frames; only
/// then does it take them. A bad frame is quarantined and the allocation starts again.
extension PageAllocator {
    /// Allocates a block as `request` describes. Returns its first PFN, or `nil` when no
    /// allowed zone can satisfy it above its watermark. Throws for misuse (bad order or
    /// alignment; nothing changed) or corruption found on the way.
    public func allocate(_ request: AllocationRequest) throws(KmemError) -> PFN? {
        // The hit attempt and the general path count once more in `busy`, together.
        let op = cpuOperation
        enterBusy(op)
        defer { leaveBusy(op) }
        // A cache hit holds only this CPU's cache lock (PerCPUFastPath.swift); the rest the zones' locks.
        if let pfn = allocatePerCPUHit(request) { return pfn }
        return try withZoneLocks(zoneMask(upTo: request.zone.highestZone)) { (held: borrowing ZoneLocksHeld) throws(KmemError) -> PFN? in
            try allocateLocked(request, held)
        }
    }

    /// `allocate`'s general path, with the zones' locks held.
    func allocateLocked(_ request: AllocationRequest, _ held: borrowing ZoneLocksHeld) throws(KmemError) -> PFN? {
        var args = OpArguments()
        args.order = request.order
        args.migratetype = request.migratetype.rawValue
        args.zone = request.zone.rawValue
        args.flags = request.ignoreWatermarks ? 1 : 0
        args.alignment = request.alignment
        args.owner = request.owner
        return try logged(.allocate, args, { (_) throws(KmemError) -> PFN? in try allocateUnlogged(request, held) },
                          outcome: { $0 == nil ? (.failed, Kmem.none) : (.ok, $0!.raw) })
    }

    func allocateUnlogged(_ request: AllocationRequest, _ held: borrowing ZoneLocksHeld) throws(KmemError) -> PFN? {
        guard request.order >= 0 && request.order <= Kmem.maxOrder else { throw .invalidOrder(order: request.order) }
        guard request.alignment != 0 && request.alignment & (request.alignment &- 1) == 0 else {
            throw .invalidAlignment(pages: request.alignment)
        }
        // Each restart follows a quarantine, which takes one free frame out of use for good:
        // the frame count bounds the restarts.
        var restarts: UInt64 = 0
        while restarts <= frameCount {
            switch try attemptAllocation(request, held) {
            case .some(nil): return nil
            case .some(.some(let pfn)): return pfn
            case nil: restarts &+= 1
            }
        }
        throw .corruptedFrame(pfn: .noFrame, flags: 0)
    }

    /// One attempt: the passes over the zones. `nil` when a frame was quarantined and the
    /// allocation must start again; `.some(nil)` when nothing could be given.
    func attemptAllocation(_ request: AllocationRequest, _ held: borrowing ZoneLocksHeld) throws(KmemError) -> PFN?? {
        let highest = min(request.zone.highestZone, ZoneKind.count - 1)
        debugCheckLocked(held, upTo: highest)
        var pass = 0
        while pass < 3 {
            var z = highest
            while z >= 0 {
                let zone = self.zone(z)
                if zone.pointee.managedPages != 0 && watermarkOK(zone, request, highest: highest, pass: pass) {
                    if let candidate = try choose(from: zone, request) {
                        if try quarantineIfPoisoned(candidate.pfn, pages(request.order), held) { return nil }
                        return .some(try take(candidate, request))
                    }
                }
                z -= 1
            }
            // Before the last pass, return cached order-0 frames to the buddy lists so they
            // can merge (Linux drains pcp lists on failure).
            if pass == 1 {
                var dz = highest
                while dz >= 0 { try drainUnlogged(zone(dz), all: true, held); dz -= 1 }
            }
            pass += 1
        }
        return .some(nil)
    }

    /// Pass 0 checks the low watermark, passes 1 and 2 the min watermark; both plus the
    /// zone's lowmem reserve for requests that could have used a higher zone.
    func watermarkOK(_ zone: UnsafeMutablePointer<Zone>, _ request: AllocationRequest, highest: Int, pass: Int) -> Bool {
        if request.ignoreWatermarks { return true }
        let mark = (pass == 0 ? zone.pointee.watermarkLow : zone.pointee.watermarkMin)
            &+ zone.pointee.lowmemReserve[highest]
        return freePagesRead(zone) >= mark &+ pages(request.order)  // atomic: hits read it without the lock
    }

    /// What an allocation chose, before anything of that choice changed.
    struct Candidate {
        enum Source {
            /// The first frame of the zone's per-CPU list of this migratetype slot.
            case perCPU(cache: UnsafeMutablePointer<PerCPUPages>, slot: Int)
            /// A block on a buddy list of the requested migratetype.
            case own
            /// A block on the other migratetype's list (stealing rules apply when taken).
            case steal
        }
        var source: Source
        var segment: UnsafeMutablePointer<Segment>?
        var pfn: PFN
        var order: Int
    }

    /// Chooses from one zone: order-0 unaligned requests from the per-CPU cache (refilled
    /// first when empty), the rest from the buddy lists.
    func choose(from zone: UnsafeMutablePointer<Zone>, _ request: AllocationRequest) throws(KmemError) -> Candidate? {
        if request.order == 0 && request.alignment == 1 {
            let slot = Int(request.migratetype.rawValue)
            guard let pfn = try perCPUCandidate(zone, request.migratetype) else { return nil }
            return Candidate(source: .perCPU(cache: localPerCPU(zone), slot: slot), segment: nil, pfn: pfn, order: 0)
        }
        return try chooseBuddy(zone, request)
    }

    /// The block the buddy lists give: own migratetype smallest fit across the zone, else the
    /// largest block of the other migratetype.
    func chooseBuddy(_ zone: UnsafeMutablePointer<Zone>, _ request: AllocationRequest) throws(KmemError) -> Candidate? {
        let first = Int(zone.pointee.firstSegment)
        let end = first &+ Int(zone.pointee.segmentCount)
        let own = Int(request.migratetype.rawValue)
        var k = request.order
        while k <= Kmem.maxOrder {
            var s = first
            while s < end {
                if let pfn = try findBlock(segment(s), own, k, alignment: request.alignment) {
                    return Candidate(source: .own, segment: segment(s), pfn: pfn, order: k)
                }
                s += 1
            }
            k += 1
        }
        let donor = Int(request.migratetype.fallback.rawValue)
        k = Kmem.maxOrder
        while k >= request.order {
            var s = first
            while s < end {
                if let pfn = try findBlock(segment(s), donor, k, alignment: request.alignment) {
                    return Candidate(source: .steal, segment: segment(s), pfn: pfn, order: k)
                }
                s += 1
            }
            k -= 1
        }
        return nil
    }

    /// Takes a buddy block at once (the per-CPU refill): chosen and taken, no poison check
    /// (the frames are not handed out yet). Returns its PFN, not marked allocated.
    func buddyAllocate(_ zone: UnsafeMutablePointer<Zone>, _ request: AllocationRequest) throws(KmemError) -> PFN? {
        guard let c = try chooseBuddy(zone, request) else { return nil }
        try takeBuddy(c, request)
        return c.pfn
    }

    /// Takes the chosen frames and marks them allocated.
    func take(_ c: Candidate, _ request: AllocationRequest) throws(KmemError) -> PFN {
        switch c.source {
        case .perCPU(let cache, let slot):
            try unlinkPerCPU(cache, c.pfn, slot)
        case .own, .steal:
            try takeBuddy(c, request)
        }
        try markAllocated(c.pfn, request)
        return c.pfn
    }

    /// Unlinks a chosen buddy block and splits it down to the request's order, applying the
    /// stealing rule when it came from the other migratetype.
    func takeBuddy(_ c: Candidate, _ request: AllocationRequest) throws(KmemError) {
        let seg = c.segment!
        let want = Int(request.migratetype.rawValue)
        var mt = want
        if case .steal = c.source {
            mt = Int(request.migratetype.fallback.rawValue)
            if c.order >= Kmem.pageblockOrder {
                retagPageblocks(seg, c.pfn, c.order, want)
                mt = want
            } else if c.order >= Kmem.pageblockOrder / 2 || request.migratetype == .unmovable {
                // moves the found block to `want`'s list too, so it is removed from there
                try claimPageblock(seg, c.pfn, want)
                mt = want
            }
        }
        try removeFree(seg, c.pfn)
        split(seg, c.pfn, from: c.order, to: request.order, mt)
    }

    /// First block on list (`mt`, `order`) whose PFN is a multiple of `alignment`.
    /// Bounded by the list's count.
    func findBlock(_ seg: UnsafeMutablePointer<Segment>, _ mt: Int, _ order: Int, alignment: UInt64) throws(KmemError) -> PFN? {
        let idx = freeListIndex(mt, order)
        let count = seg.pointee.freeCounts[idx]
        if count == 0 { return nil }
        var pfn = PFN(seg.pointee.freeHeads[idx])
        if alignment <= pages(order) {
            _ = try linked(pfn, from: pfn)
            return pfn
        }
        var steps: UInt64 = 0
        while !pfn.isNoFrame && steps < count {
            let m = try linked(pfn, from: pfn)
            if pfn.isAligned(pages: alignment) { return pfn }
            pfn = m.pointee.nextFrame
            steps &+= 1
        }
        return nil
    }

    /// Splits the block at `pfn` from order `high` down to `low`, putting each upper half
    /// back on list `mt`; the lower part (at `pfn`) is left to the caller.
    func split(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, from high: Int, to low: Int, _ mt: Int) {
        debugCheckSplit(seg, pfn, high, low)
        var k = high
        while k > low {
            k -= 1
            pushFree(seg, pfn &+ pages(k), k, mt)
        }
    }

    /// Retags the pageblock containing `pfn` to `mt` and moves every free block inside it
    /// (in every segment of the zone that shares the pageblock, in PFN order) to `mt`'s
    /// lists. Bounded by the pageblock's size and the zone's segment count.
    func claimPageblock(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ mt: Int) throws(KmemError) {
        setPageblockTag(seg, pfn, mt)
        let pbStart = PFN(pfn.raw & ~(Kmem.pageblockPages &- 1))
        let pbEnd = pbStart &+ Kmem.pageblockPages
        let z = zone(of: seg)
        var s = Int(z.pointee.firstSegment)
        let last = s &+ Int(z.pointee.segmentCount)
        while s < last {
            let g = segment(s)
            let a = max(pbStart, g.pointee.start), b = min(pbEnd, g.pointee.end)
            if a < b { try moveFreeBlocks(g, a, b, mt) }
            s += 1
        }
    }

    /// Moves every free head of order ≤ pageblock order in `[start, end)` of a segment that
    /// sits on another migratetype's list to `mt`'s list of its order, in PFN order.
    func moveFreeBlocks(_ seg: UnsafeMutablePointer<Segment>, _ start: PFN, _ end: PFN, _ mt: Int) throws(KmemError) {
        var p = start
        while p < end {
            let m = meta(p)
            if m.pointee.state.contains([.free, .head]) && m.pointee.order <= UInt8(Kmem.pageblockOrder) {
                let order = Int(m.pointee.order)
                if Int(m.pointee.migratetype) != mt {
                    try removeFree(seg, p)
                    pushFree(seg, p, order, mt)
                }
                p = p &+ pages(order)
            } else {
                p = p &+ 1
            }
        }
    }

    /// Marks the block at `pfn` allocated: every frame ALLOCATED (head also HEAD with the
    /// order, migratetype and refcount 1), allocation bits set. The frames are unlisted and
    /// their poison, if any, was checked.
    func markAllocated(_ pfn: PFN, _ request: AllocationRequest) throws(KmemError) {
        let m = meta(pfn)
        let segIndex = Int(m.pointee.segment)
        guard segIndex < segmentCount else { throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags) }
        let seg = segment(segIndex)
        let n = pages(request.order)
        let use: FrameFlags = request.migratetype == .unmovable ? .kernel : .user
        transition(m, .handOut, head: true, add: use)
        m.pointee.order = UInt8(request.order)
        m.pointee.migratetype = request.migratetype.rawValue
        m.pointee.refcount = 1
        m.pointee.owner = request.owner
        m.pointee.nextFrame = .noFrame
        m.pointee.prevFrame = .noFrame
        // The other frames: `transition` to ALLOCATED (no HEAD) with its masks computed once.
        let keep = FrameFlags.stateMask.union([.head, .kernel, .user, .slab, .poisonFill]).rawValue
        let set = FrameFlags.allocated.union(use).rawValue
        let seq = sequence
        var f = m
        var i: UInt64 = 1
        while i < n {
            f += 1
            let old = f.pointee.flags
            checkMove(f, .handOut)
            f.pointee.flags = old & ~keep | set
            f.pointee.lastSeq = seq
            f.pointee.order = 0
            f.pointee.migratetype = request.migratetype.rawValue
            f.pointee.refcount = 0
            f.pointee.owner = request.owner
            f.pointee.nextFrame = .noFrame
            f.pointee.prevFrame = .noFrame
            i &+= 1
        }
        markInUse(seg, pfn, n, true)
        addAllocated(zone(of: seg), n)
    }
}
