/// "Allocation (`allocate`)" of kernel/README.md, clause by clause.
extension ModelState {
    /// What one zone gave an allocation attempt.
    enum ZoneYield {
        /// The head of the block handed out.
        case block(UInt64)
        /// A frame of the chosen candidate was quarantined: start again from pass 0.
        case quarantined
        /// Nothing (the next zone is tried).
        case nothing
    }

    /// A block chosen on the buddy lists, before anything changed for it.
    struct Candidate {
        var segment: Int
        var head: UInt64
        var order: Int
        /// The list it sits on.
        var migratetype: Int
        /// Found by stealing from the other migratetype.
        var stolen: Bool
    }

    /// `allocate(order, migratetype, zone constraint, alignment, owner, ignoreWatermarks)`.
    @discardableResult
    public mutating func allocate(order: Int, migratetype mt: Int, zone highest: Int, alignment: UInt64, owner: UInt64,
                                  ignoreWatermarks: Bool) -> ModelResult {
        let seq = beginOperation()
        let e = entry(seq, .allocate, order: order, migratetype: mt, zone: highest, flags: ignoreWatermarks ? 1 : 0,
                      alignment: alignment, owner: owner)
        return operation(seq, e) { m in
            // "Misuse: invalid order or alignment" — checked before anything changes.
            guard order >= 0 && order <= Self.maxOrder, alignment != 0, alignment & (alignment - 1) == 0,
                  mt >= 0 && mt < Self.migratetypes, highest >= 0 && highest < m.zones.count else { return .misuse }
            guard let pfn = m.allocateBlock(seq, order: order, mt: mt, highest: highest, alignment: alignment,
                                            owner: owner, ignoreWatermarks: ignoreWatermarks) else { return .failed(.max) }
            return .ok(pfn)
        }
    }

    /// The allocation proper: zones from the highest allowed down, in three passes; it starts
    /// again from pass 0 whenever a candidate's frame was quarantined ("Page poisoning").
    mutating func allocateBlock(_ seq: UInt64, order: Int, mt: Int, highest: Int, alignment: UInt64, owner: UInt64,
                                ignoreWatermarks: Bool) -> UInt64? {
        attempt: while true {
            for pass in 0..<3 {
                // "between pass 1 and pass 2 every allowed zone's per-CPU lists are drained
                // completely (highest zone first, as by drainPerCPU(all), inside the same operation)"
                if pass == 2 {
                    events.secondPassDrains += 1
                    for z in stride(from: highest, through: 0, by: -1) { drainFrames(zone: z, all: true) }
                }
                // "zones from the highest the request allows down (Normal → DMA32 → DMA; empty zones skipped)"
                for z in stride(from: highest, through: 0, by: -1) where !zones[z].segments.isEmpty {
                    // "pass 0 uses zone Z when free ≥ low + lowmemReserve[highest allowed zone] + 2^order,
                    // passes 1 and 2 use min instead of low"; "watermarks ignored skips the test"
                    if !ignoreWatermarks {
                        let zone = zones[z]
                        let mark = pass == 0 ? zone.watermarkLow : zone.watermarkMin
                        let reserve = highest < zone.lowmemReserve.count ? zone.lowmemReserve[highest] : 0
                        guard zone.freePages >= mark + reserve + Self.pages(order) else {
                            events.watermarkSkips += 1
                            continue
                        }
                    }
                    // "The first zone that yields a block wins."
                    switch takeFromZone(seq, zone: z, order: order, mt: mt, alignment: alignment) {
                    case .block(let head):
                        handOut(head, order: order, mt: mt, owner: owner, seq: seq)
                        return head
                    case .quarantined: continue attempt
                    case .nothing: continue
                    }
                }
            }
            events.failedAllocations += 1
            return nil
        }
    }

    /// One zone's attempt: the per-CPU path for order 0 with alignment 1, else the buddy lists.
    mutating func takeFromZone(_ seq: UInt64, zone z: Int, order: Int, mt: Int, alignment: UInt64) -> ZoneYield {
        if order == 0 && alignment == 1 { return takeFromPerCPU(seq, zone: z, mt: mt) }
        guard let c = findCandidate(zone: z, order: order, mt: mt, alignment: alignment) else { return .nothing }
        // "checks the pattern of the frames it would hand out (the first 2^order frames of the
        // chosen block)" before it changes anything for that choice.
        if let bad = poisonCheck(seq, frames: c.head..<(c.head + Self.pages(order))) {
            quarantine(bad)
            return .quarantined
        }
        commit(c, order: order, mt: mt)
        return .block(c.head)
    }

    /// "Everything else takes from the zone's buddy lists": own migratetype smallest fit across
    /// the zone, else stealing from the other migratetype, largest first.
    func findCandidate(zone z: Int, order: Int, mt: Int, alignment: UInt64) -> Candidate? {
        let segs = zones[z].segments
        // "Own migratetype, smallest fit across the zone: for k from the request's order up to 11,
        // for each segment of the zone in index order, the first block on list (migratetype, k)
        // whose PFN is a multiple of the alignment; the first found wins."
        // (The alignment is a power of two: a multiple of it has no bits of `alignment − 1`.)
        let mask = alignment &- 1
        for k in order...Self.maxOrder {
            for s in segs {
                if let head = segments[s].freeLists[mt][k].first(where: { $0 & mask == 0 }) {
                    return Candidate(segment: s, head: head, order: k, migratetype: mt, stolen: false)
                }
            }
        }
        // "Else stealing: for k from 11 down to the request's order, for each segment in index
        // order, the first suitably aligned block on the other migratetype's list (k)"
        let other = mt == 0 ? 1 : 0
        for k in stride(from: Self.maxOrder, through: order, by: -1) {
            for s in segs {
                if let head = segments[s].freeLists[other][k].first(where: { $0 & mask == 0 }) {
                    return Candidate(segment: s, head: head, order: k, migratetype: other, stolen: true)
                }
            }
        }
        return nil
    }

    /// Takes the chosen block off the lists and splits it down to `order`; the block handed
    /// out is the lower `2^order` frames at `c.head`.
    mutating func commit(_ c: Candidate, order: Int, mt: Int) {
        let s = c.segment
        guard c.stolen else {
            // "unlinked and split down to the requested order, the upper half pushed at each order
            // from k−1 down to the request's order, on the list of the block's migratetype"
            unlinkFree(c.head, segment: s)
            split(c.head, from: c.order, to: order, mt: c.migratetype, segment: s)
            return
        }
        let pageblock = Self.pages(Self.pageblockOrder)
        if c.order >= Self.pageblockOrder {
            // "a block of pageblock order or more retags every pageblock it covers to the
            // requested migratetype and is split as above onto the requested type's lists"
            events.retagSteals += 1
            var p = c.head
            while p < c.head + Self.pages(c.order) { setTag(p, mt); p += pageblock }
            unlinkFree(c.head, segment: s)
            split(c.head, from: c.order, to: order, mt: mt, segment: s)
        } else if c.order >= 4 || mt == 0 {
            // "a smaller one, when its order ≥ 4 or the request is unmovable, claims its pageblock:
            // the tag is set to the requested migratetype, then every free head of order ≤ 9 inside
            // the pageblock (and the segment), in PFN order, that sits on the other type's list is
            // unlinked and pushed on the requested type's list of its order; the found block is
            // then unlinked and split onto the requested type's lists."
            events.claimSteals += 1
            setTag(c.head, mt)
            // "Claiming a pageblock moves the free blocks of every part of it, segment by segment
            // in PFN order."
            let first = c.head & ~(pageblock - 1)
            for part in zones[segments[s].zone].segments {
                let start = max(first, segments[part].startPFN)
                let end = min(first + pageblock, segments[part].endPFN)
                var p = start
                while p < end {
                    if let b = freeBlocks[p] {
                        if b.order <= Self.pageblockOrder && b.migratetype != mt { moveFree(p, to: mt, segment: part) }
                        p += Self.pages(b.order)
                    } else {
                        p += 1
                    }
                }
            }
            unlinkFree(c.head, segment: s)
            split(c.head, from: c.order, to: order, mt: mt, segment: s)
        } else {
            events.loneSteals += 1
            // "Otherwise the block is taken alone and its split remainders are pushed on the donor's lists."
            unlinkFree(c.head, segment: s)
            split(c.head, from: c.order, to: order, mt: c.migratetype, segment: s)
        }
    }

    /// "The block handed out: every frame ALLOCATED (plus KERNEL for unmovable, USER for movable),
    /// the head HEAD with the order, the migratetype and refcount 1; owner and lastSeq on every
    /// frame; allocation bits set; allocatedPages += 2^order."
    mutating func handOut(_ head: UInt64, order: Int, mt: Int, owner: UInt64, seq: UInt64) {
        allocated[head] = AllocatedBlock(order: order, migratetype: mt, owner: owner, lastSeq: seq)
        zones[segments[segmentIndex(of: head)!].zone].allocatedPages += Self.pages(order)
    }
}
