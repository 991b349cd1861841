import Synchronization

/// Free-list, parity-bitmap, allocation-bitmap and pageblock-tag primitives. Every change
/// of a block's "free at order k" state goes through `pushFree`/`removeFree`, which is
/// what keeps the parity bitmaps, list counts and page counters exact.
extension PageAllocator {
    /// Puts the block at `pfn` of `order` on its segment's free list of migratetype slot
    /// `mt` (front, LIFO), marks its head FREE|HEAD, toggles its parity bit and counts it.
    func pushFree(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ order: Int, _ mt: Int) {
        debugCheckBlock(seg, pfn, order)
        let m = meta(pfn)
        let idx = freeListIndex(mt, order)
        linkFront(pfn, head: freeListHead(seg, idx))
        seg.pointee.freeCounts[idx] &+= 1
        transition(m, .list, head: true, add: m.pointee.state.intersection(.poisonFill))
        m.pointee.order = UInt8(order)
        m.pointee.migratetype = UInt8(mt)
        toggleParity(seg, pfn, order)
        seg.pointee.freePages &+= pages(order)
        addFree(zone(of: seg), pages(order))
    }

    /// Unlinks the free block at `pfn` (a FREE|HEAD frame) from the list it is on, checking
    /// that its neighbours point back. Returns its order. The head keeps FREE|HEAD: the
    /// caller decides what the frames become.
    @discardableResult
    func removeFree(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN) throws(KmemError) -> Int {
        let m = meta(pfn)
        let order = Int(m.pointee.order)
        let mt = Int(m.pointee.migratetype)
        guard order <= Kmem.maxOrder, mt < Kmem.migratetypeSlots, m.pointee.state.contains([.free, .head]) else {
            throw .corruptedFrame(pfn: pfn, flags: m.pointee.flags)
        }
        let idx = freeListIndex(mt, order)
        try unlink(pfn, head: freeListHead(seg, idx))
        seg.pointee.freeCounts[idx] &-= 1
        toggleParity(seg, pfn, order)
        seg.pointee.freePages &-= pages(order)
        addFree(zone(of: seg), 0 &- pages(order))
        return order
    }

    /// Flips the parity bit of the buddy pair containing `pfn` at `order`.
    @inline(__always)
    func toggleParity(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ order: Int) {
        let shift = UInt64(order + 1)
        let bit = (pfn.raw >> shift) &- (seg.pointee.startPFN >> shift)
        let w = words(seg.pointee.parityBitmaps[order])
        w[Int(bit >> 6)] ^= 1 &<< (bit & 63)
    }

    /// Reads the parity bit of the pair containing `pfn` at `order`.
    public func parityBit(segment seg: UnsafeMutablePointer<Segment>, pfn: PFN, order: Int) -> Bool {
        let shift = UInt64(order + 1)
        let bit = (pfn.raw >> shift) &- (seg.pointee.startPFN >> shift)
        return words(seg.pointee.parityBitmaps[order])[Int(bit >> 6)] & (1 &<< (bit & 63)) != 0
    }

    /// Sets (`inUse`) or clears the allocation-bitmap bits of `count` frames from `pfn`.
    func markInUse(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ count: UInt64, _ inUse: Bool) {
        let w = words(seg.pointee.allocBitmap)
        var bit = pfn.raw &- seg.pointee.startPFN
        let end = bit &+ count
        while bit < end {
            if bit & 63 == 0 && end &- bit >= 64 {
                w[Int(bit >> 6)] = inUse ? .max : 0
                bit &+= 64
            } else {
                // one bit of a word other frames share: atomically (cache hits change bits
                // without the zone's lock; `setInUseBit`)
                let a = atomicWord(w + Int(bit >> 6))
                if inUse { a.pointee.bitwiseOr(1 &<< (bit & 63), ordering: .relaxed) } else { a.pointee.bitwiseAnd(~(1 &<< (bit & 63)), ordering: .relaxed) }
                bit &+= 1
            }
        }
    }

    /// Reads the allocation-bitmap bit of `pfn`.
    public func inUseBit(segment seg: UnsafeMutablePointer<Segment>, pfn: PFN) -> Bool {
        let bit = pfn.raw &- seg.pointee.startPFN
        return words(seg.pointee.allocBitmap)[Int(bit >> 6)] & (1 &<< (bit & 63)) != 0
    }

    /// Pointer to the tag byte of the pageblock containing `pfn`.
    @inline(__always)
    func pageblockTag(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN) -> UnsafeMutablePointer<UInt8> {
        let idx = pfn.pageblock &- seg.pointee.firstPageblock
        return UnsafeMutablePointer<UInt8>(bitPattern: UInt(seg.pointee.pageblockTags))! + Int(idx)
    }

    /// Migratetype of the pageblock containing `pfn` (an invalid tag reads as movable).
    public func pageblockMigratetype(segment seg: UnsafeMutablePointer<Segment>, pfn: PFN) -> Int {
        let t = Int(pageblockTag(seg, pfn).pointee)
        return t < Migratetype.count ? t : Int(Migratetype.movable.rawValue)
    }

    /// Tags every pageblock that the block `[pfn, pfn + 2^order)` touches with `mt`.
    func retagPageblocks(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ order: Int, _ mt: Int) {
        var p = pfn
        let end = pfn &+ pages(order)
        while p < end {
            if seg.pointee.contains(p) { setPageblockTag(seg, p, mt) }
            p = PFN((p.raw | (Kmem.pageblockPages &- 1)) &+ 1)
        }
    }

    /// Sets the migratetype of the pageblock containing `pfn`: one tag per pageblock per
    /// zone, so every segment of the zone that touches the pageblock (a pageblock split by a
    /// hole) gets it. Bounded by the zone's segment count.
    func setPageblockTag(_ seg: UnsafeMutablePointer<Segment>, _ pfn: PFN, _ mt: Int) {
        let pb = pfn.pageblock
        let z = zone(of: seg)
        var s = Int(z.pointee.firstSegment)
        let end = s &+ Int(z.pointee.segmentCount)
        while s < end {
            let g = segment(s)
            if pb >= g.pointee.firstPageblock && pb &- g.pointee.firstPageblock < g.pointee.pageblockCount {
                pageblockTag(g, pfn).pointee = UInt8(mt)
            }
            s += 1
        }
    }
}
