/// The allocator's check of its own invariants (see `SelfCheck` for the list). Read-only,
/// bounded by the number of managed frames times a constant.
extension PageAllocator {
    /// Checks every invariant over all segments and zones.
    public func selfCheck() -> SelfCheckReport {
        var r = SelfCheckReport()
        var zoneFree: InlineArray<3, UInt64> = .init(repeating: 0)
        var zoneAllocated: InlineArray<3, UInt64> = .init(repeating: 0)
        var zoneReserved: InlineArray<3, UInt64> = .init(repeating: 0)
        var zoneCached: InlineArray<3, UInt64> = .init(repeating: 0)
        var slabPages: UInt64 = 0
        var largeBlocks: UInt64 = 0, largePages: UInt64 = 0
        var s = 0
        while s < segmentCount {
            let seg = segment(s)
            let t = checkTiling(seg, &r)
            slabPages &+= t.slabPages
            largeBlocks &+= t.largeBlocks
            largePages &+= t.largePages
            checkLists(seg, t.heads, &r)
            checkParity(seg, &r)
            if seg.pointee.freePages != t.free { r.fail(.counters, seg.pointee.start, expected: t.free, found: seg.pointee.freePages) }
            if seg.pointee.reservedPages != t.reserved {
                r.fail(.counters, seg.pointee.start, expected: t.reserved, found: seg.pointee.reservedPages)
            }
            let z = Int(seg.pointee.zone)
            // One tag per pageblock per zone: a pageblock shared with the previous segment
            // (split by a hole) carries the same tag in both.
            if s > 0 && segment(s - 1).pointee.zone == seg.pointee.zone {
                let prev = segment(s - 1)
                let edge = seg.pointee.start
                if (prev.pointee.end &- 1).pageblock == edge.pageblock
                    && pageblockTag(prev, edge).pointee != pageblockTag(seg, edge).pointee {
                    r.fail(.pageblockTags, edge, expected: UInt64(pageblockTag(prev, edge).pointee),
                           found: UInt64(pageblockTag(seg, edge).pointee))
                }
            }
            if z < ZoneKind.count {
                zoneFree[z] &+= t.free
                zoneAllocated[z] &+= t.allocated
                zoneReserved[z] &+= t.reserved
                zoneCached[z] &+= t.cached
            }
            s += 1
        }
        for z in 0..<ZoneKind.count {
            let zp = zone(z)
            if zp.pointee.freePages != zoneFree[z] { r.fail(.counters, zp.pointee.start, expected: zoneFree[z], found: zp.pointee.freePages) }
            if zp.pointee.allocatedPages != zoneAllocated[z] {
                r.fail(.counters, zp.pointee.start, expected: zoneAllocated[z], found: zp.pointee.allocatedPages)
            }
            if zp.pointee.reservedPages != zoneReserved[z] {
                r.fail(.counters, zp.pointee.start, expected: zoneReserved[z], found: zp.pointee.reservedPages)
            }
            let sum = zp.pointee.freePages &+ perCPUCount(zone: z) &+ zp.pointee.allocatedPages &+ zp.pointee.reservedPages
            if sum != zp.pointee.managedPages { r.fail(.counters, zp.pointee.start, expected: zp.pointee.managedPages, found: sum) }
            checkPerCPU(z, cachedFrames: zoneCached[z], &r)
        }
        checkHeap(slabPages: slabPages, &r)
        // The heap's large-allocation counters equal the blocks that carry its owner tag.
        if heap.pointee.largeAllocations != largeBlocks { r.fail(.slab, .noFrame, expected: largeBlocks, found: heap.pointee.largeAllocations) }
        if heap.pointee.largePages != largePages { r.fail(.slab, .noFrame, expected: largePages, found: heap.pointee.largePages) }
        return r
    }

    /// What the tiling walk of one segment counted.
    struct Tiled {
        var free: UInt64 = 0
        var allocated: UInt64 = 0
        var reserved: UInt64 = 0
        var cached: UInt64 = 0
        var slabPages: UInt64 = 0
        /// Allocated blocks owned by the heap's large allocations, and their pages.
        var largeBlocks: UInt64 = 0
        var largePages: UInt64 = 0
        var heads: InlineArray<12, UInt64> = .init(repeating: 0)
    }

    func isFreeHead(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ order: Int) -> Bool {
        guard pfn >= seg.pointee.start && pfn &+ pages(order) <= seg.pointee.end else { return false }
        let m = meta(pfn)
        return m.pointee.state.contains([.free, .head]) && Int(m.pointee.order) == order
    }

    func checkTiling(_ seg: UnsafeMutablePointer<Segment>, _ r: inout SelfCheckReport) -> Tiled {
        var t = Tiled()
        let start = seg.pointee.start, end = seg.pointee.end
        var p = start
        while p < end {
            let m = meta(p)
            let st = m.pointee.state
            r.framesChecked &+= 1
            if m.pointee.segment != UInt16(truncatingIfNeeded: seg.pointee.index) {
                r.fail(.tiling, p, expected: UInt64(seg.pointee.index), found: UInt64(m.pointee.segment))
            }
            let states = st.intersection(FrameFlags.stateMask).rawValue.nonzeroBitCount
            if states != 1 { r.fail(.tiling, p, expected: 1, found: UInt64(m.pointee.flags)); p &+= 1; continue }
            if !st.subtracting(FrameFlags.defined).isEmpty || (st.contains(.poisoned) && !st.contains(.reserved)) {
                r.fail(.tiling, p, expected: UInt64(FrameFlags.defined.rawValue), found: UInt64(m.pointee.flags))
            }
            if st.contains(.pcp) || st.contains(.reserved) {
                if st.contains(.head) { r.fail(.interiorHead, p, found: UInt64(m.pointee.flags)) }
                if m.pointee.refcount != 0 { r.fail(.refcount, p, expected: 0, found: UInt64(m.pointee.refcount)) }
                let inUse = st.contains(.reserved)
                if inUseBit(segment: seg, pfn: p) != inUse { r.fail(.allocBitmap, p, expected: inUse ? 1 : 0, found: inUse ? 0 : 1) }
                if inUse { t.reserved &+= 1 } else { t.cached &+= 1 }
                p &+= 1
                continue
            }
            // free or allocated: must be a block head
            guard st.contains(.head) else { r.fail(.tiling, p, expected: UInt64(FrameFlags.head.rawValue), found: UInt64(m.pointee.flags)); p &+= 1; continue }
            let k = Int(m.pointee.order)
            guard k <= Kmem.maxOrder else { r.fail(.blockAlignment, p, expected: UInt64(Kmem.maxOrder), found: UInt64(k)); p &+= 1; continue }
            if !p.isAligned(order: k) || p &+ pages(k) > end { r.fail(.blockAlignment, p, expected: UInt64(k), found: p.raw) }
            let isFree = st.contains(.free)
            let blockEnd = min(p &+ pages(k), end)
            var i = p
            while i < blockEnd {
                let f = meta(i)
                if i != p {
                    if f.pointee.state.contains(.head) { r.fail(.interiorHead, i, expected: p.raw, found: UInt64(f.pointee.flags)) }
                    let want: FrameFlags = isFree ? .free : .allocated
                    if f.pointee.state.intersection(FrameFlags.stateMask) != want { r.fail(.tiling, i, expected: UInt64(want.rawValue), found: UInt64(f.pointee.flags)) }
                    if f.pointee.refcount != 0 { r.fail(.refcount, i, expected: 0, found: UInt64(f.pointee.refcount)) }
                }
                if inUseBit(segment: seg, pfn: i) == isFree { r.fail(.allocBitmap, i, expected: isFree ? 0 : 1, found: isFree ? 1 : 0) }
                i &+= 1
            }
            r.framesChecked &+= blockEnd &- p &- 1
            if isFree {
                let mt = Int(m.pointee.migratetype)
                if mt >= Migratetype.count { r.fail(.freeListEntry, p, expected: UInt64(Migratetype.count), found: UInt64(mt)) }
                var q = p
                while q < blockEnd {
                    let tag = Int(pageblockTag(seg, q).pointee)
                    if tag != mt { r.fail(.pageblockTags, q, expected: UInt64(mt), found: UInt64(tag)) }
                    q = PFN((q.raw | (Kmem.pageblockPages &- 1)) &+ 1)
                }
                if k < Kmem.maxOrder && isFreeHead(seg, p.buddy(order: k), k) { r.fail(.coalescible, p, expected: UInt64(k), found: p.buddy(order: k).raw) }
                if m.pointee.refcount != 0 { r.fail(.refcount, p, expected: 0, found: UInt64(m.pointee.refcount)) }
                t.heads[k] &+= 1
                t.free &+= blockEnd &- p
            } else {
                if m.pointee.refcount == 0 { r.fail(.refcount, p, expected: 1, found: 0) }
                if st.contains(.slab) { t.slabPages &+= 1 }
                if m.pointee.owner == Kmem.largeHeapOwner { t.largeBlocks &+= 1; t.largePages &+= blockEnd &- p }
                t.allocated &+= blockEnd &- p
            }
            p = blockEnd
        }
        var b: UInt64 = 0
        let tags = UnsafeMutablePointer<UInt8>(bitPattern: UInt(seg.pointee.pageblockTags))!
        while b < seg.pointee.pageblockCount {
            if Int(tags[Int(b)]) >= Migratetype.count {
                r.fail(.pageblockTags, PFN((seg.pointee.firstPageblock &+ b) << UInt64(Kmem.pageblockOrder)), expected: UInt64(Migratetype.count), found: UInt64(tags[Int(b)]))
            }
            b &+= 1
        }
        return t
    }

    func checkLists(_ seg: UnsafeMutablePointer<Segment>, _ heads: InlineArray<12, UInt64>, _ r: inout SelfCheckReport) {
        var listed: InlineArray<12, UInt64> = .init(repeating: 0)
        for mt in 0..<Kmem.migratetypeSlots {
            for k in 0...Kmem.maxOrder {
                let idx = freeListIndex(mt, k)
                var n: UInt64 = 0
                var prev = PFN.noFrame
                var p = PFN(seg.pointee.freeHeads[idx])
                let bound = seg.pointee.pageCount &+ 1
                while !p.isNoFrame {
                    guard seg.pointee.contains(p), n < bound else { r.fail(.freeListLinks, prev, expected: UInt64(idx), found: p.raw); break }
                    let m = meta(p)
                    if m.pointee.prevFrame != prev { r.fail(.freeListLinks, p, expected: prev.raw, found: m.pointee.prev); break }
                    if !m.pointee.state.contains([.free, .head]) || Int(m.pointee.order) != k || Int(m.pointee.migratetype) != mt {
                        r.fail(.freeListEntry, p, expected: UInt64(k), found: UInt64(m.pointee.order))
                        break
                    }
                    n &+= 1
                    prev = p
                    p = m.pointee.nextFrame
                }
                if n != seg.pointee.freeCounts[idx] { r.fail(.counters, seg.pointee.start, expected: n, found: seg.pointee.freeCounts[idx]) }
                if mt >= Migratetype.count && n != 0 { r.fail(.unusedList, seg.pointee.start, expected: 0, found: n) }
                listed[k] &+= n
            }
        }
        for k in 0...Kmem.maxOrder where listed[k] != heads[k] {
            r.fail(.freeListMembership, seg.pointee.start, expected: heads[k], found: listed[k])
        }
    }

    func checkParity(_ seg: UnsafeMutablePointer<Segment>, _ r: inout SelfCheckReport) {
        let start = seg.pointee.start, end = seg.pointee.end
        for k in 0...Kmem.maxOrder {
            let shift = UInt64(k + 1)
            var pair = start.raw >> shift
            let last = (end.raw &- 1) >> shift
            while pair <= last {
                let left = PFN(pair << shift)
                let want = isFreeHead(seg, left, k) != isFreeHead(seg, left &+ pages(k), k)
                let have = parityBit(segment: seg, pfn: left < start ? start : left, order: k)
                if want != have { r.fail(.parity, left, expected: want ? 1 : 0, found: have ? 1 : 0) }
                pair &+= 1
            }
        }
    }

    /// Every CPU's cache of zone `z`: each list's links, states and zone, its slot counts, tail
    /// and total; all of them together hold exactly the zone's cached frames.
    func checkPerCPU(_ z: Int, cachedFrames: UInt64, _ r: inout SelfCheckReport) {
        let zp = zone(z)
        var all: UInt64 = 0
        for cpu in 0..<Kmem.maxCPUs {
            let pcp = perCPU(z, cpu: cpu)
            var total: UInt64 = 0
            for slot in 0..<Kmem.migratetypeSlots {
                var n: UInt64 = 0
                var prev = PFN.noFrame
                var p = PFN(pcp.pointee.heads[slot])
                while !p.isNoFrame {
                    guard p < frameEnd, n <= zp.pointee.managedPages else { r.fail(.perCPU, prev, expected: UInt64(slot), found: p.raw); break }
                    let m = meta(p)
                    if m.pointee.prevFrame != prev || !m.pointee.state.contains(.pcp) || Int(m.pointee.zone) != z {
                        r.fail(.perCPU, p, expected: prev.raw, found: m.pointee.prev)
                        break
                    }
                    n &+= 1
                    prev = p
                    p = m.pointee.nextFrame
                }
                if n != pcp.pointee.counts[slot] { r.fail(.perCPU, zp.pointee.start, expected: n, found: pcp.pointee.counts[slot]) }
                if pcp.pointee.tails[slot] != prev.raw { r.fail(.perCPU, prev, expected: prev.raw, found: pcp.pointee.tails[slot]) }
                total &+= n
            }
            if total != pcp.pointee.count { r.fail(.perCPU, zp.pointee.start, expected: total, found: pcp.pointee.count) }
            all &+= total
        }
        if all != cachedFrames { r.fail(.perCPU, zp.pointee.start, expected: cachedFrames, found: all) }
    }
}
