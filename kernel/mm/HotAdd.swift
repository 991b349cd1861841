/// Memory hot-add (buddy_slab_allocator's `add_region`, with overlap detection): RAM the
/// frame metadata covers but no segment manages (held back at boot) becomes new segments of
/// the right zones, their bitmaps carved from their own top, their frames handed to the
/// buddy lists as at boot.
extension PageAllocator {
    /// Adds frames `[start, start + count)`: every frame must be covered by the metadata
    /// array and be RAM held back at boot (a zone, but no state and no segment), else
    /// misuse and nothing changes.
    /// The range is split at the zone limits; each piece becomes a segment, inserted in PFN
    /// order. Returns the number of segments added.
    @discardableResult
    public func addMemory(start: PFN, count: UInt64) throws(KmemError) -> Int {
        var args = OpArguments()
        args.address = start.raw
        args.size = count
        // every CPU's cache lock too: hot-add rewrites every cache's high and batch
        return try withZoneLocks(Self.allZones, everyCPU: true) { (_: borrowing ZoneLocksHeld) throws(KmemError) -> Int in
          try logged(.addMemory, args, { (_) throws(KmemError) -> Int in
            guard count != 0, start.raw <= UInt64.max &- count else { throw .invalidRange(start: start, count: count) }
            let end = start &+ count
            guard end <= frameEnd else { throw .outsideManagedMemory(pfn: max(start, frameEnd)) }
            var p = start
            while p < end {
                let m = meta(p)
                guard m.pointee.flags == 0 && m.pointee.segment == 0xFFFF else { throw .memoryOverlap(pfn: p) }
                guard m.pointee.zone != 0xFF else { throw .outsideManagedMemory(pfn: p) }
                p &+= 1
            }
            // Plan the pieces first, so a refusal changes nothing.
            var pieces = 0
            var a = start
            while a < end {
                let b = pieceEnd(a, end)
                guard Self.hotAddMetadataPages(a.raw, b.raw) < b &- a else { throw .invalidRange(start: a, count: b &- a) }
                pieces += 1
                a = b
            }
            guard segmentCount + pieces <= Kmem.segmentCapacity else { throw .tooManySegments(pfn: start) }
            a = start
            while a < end {
                let b = pieceEnd(a, end)
                addSegment(a, b)
                a = b
            }
            computeWatermarks()
            return pieces
          }, outcome: { (.ok, UInt64($0)) })
        }
    }

    /// End of the piece of `[a, end)` that stays in `a`'s zone.
    func pieceEnd(_ a: PFN, _ end: PFN) -> PFN {
        var b = end
        let dma32 = PFN(state.pointee.dma32StartPFN), normal = PFN(state.pointee.normalStartPFN)
        if a < dma32 { b = min(b, dma32) }
        if a < normal { b = min(b, normal) }
        return b
    }

    /// Pages a segment `[s, e)` needs for its bitmaps and tags (an upper bound).
    static func hotAddMetadataPages(_ s: UInt64, _ e: UInt64) -> UInt64 {
        (bitmapBytes(s, e) &+ Kmem.pageSize &- 1) >> Kmem.pageShift
    }

    /// Makes `[s, e)` (one zone, all holes) a segment: bitmaps from its top, inserted in PFN
    /// order, frames released to the buddy lists.
    func addSegment(_ start: PFN, _ end: PFN) {
        let z = zoneIndex(of: start)
        let s = start.raw, e = end.raw  // bitmap and byte arithmetic below works on raw frame numbers
        let dm = state.pointee.directMapOffset
        // Bitmaps top-down from the piece's end (as boot); the slack stays in the segment.
        let metaPages = Self.hotAddMetadataPages(s, e)
        var bump = BootAllocator(start: (e &- metaPages) << Kmem.pageShift, end: e << Kmem.pageShift)
        var parity: InlineArray<12, UInt64> = .init(repeating: 0)
        var k = 0
        while k <= Kmem.maxOrder {
            let words = (Segment.parityBits(start: start, end: end, order: k) &+ 63) / 64
            parity[k] = dm &+ ((try? bump.allocate(words &* 8, align: 8)) ?? 0)
            k += 1
        }
        let alloc = dm &+ ((try? bump.allocate(((e &- s &+ 63) / 64) &* 8, align: 8)) ?? 0)
        let first = s >> UInt64(Kmem.pageblockOrder)
        let blocks = ((e &- 1) >> UInt64(Kmem.pageblockOrder)) &- first &+ 1
        let tags = dm &+ ((try? bump.allocate((blocks &+ 7) & ~7, align: 8)) ?? 0)
        let segEnd = bump.cursor >> Kmem.pageShift
        Self.zero(dm &+ (segEnd << Kmem.pageShift), (e &- segEnd) << Kmem.pageShift)

        // Insert at the sorted position; the segments above move up by one.
        var pos = segmentCount
        while pos > 0 && segment(pos - 1).pointee.startPFN > s { pos -= 1 }
        var i = segmentCount
        while i > pos {
            segment(i).pointee = segment(i - 1).pointee
            segment(i).pointee.index = UInt32(i)
            var f = segment(i).pointee.start
            while f < segment(i).pointee.end { meta(f).pointee.segment = UInt16(i); f &+= 1 }
            i -= 1
        }
        state.pointee.segmentCount &+= 1
        let seg = segment(pos)
        seg.pointee = Segment(
            startPFN: s, endPFN: segEnd, zone: UInt32(z), index: UInt32(pos), freePages: 0, reservedPages: 0,
            freeHeads: .init(repeating: Kmem.none), freeCounts: .init(repeating: 0), parityBitmaps: parity,
            allocBitmap: alloc, pageblockTags: tags, firstPageblock: first,
            pageblockCount: ((segEnd &- 1) >> UInt64(Kmem.pageblockOrder)) &- first &+ 1)
        let tagBytes = UnsafeMutablePointer<UInt8>(bitPattern: UInt(tags))!
        var t = 0
        while t < Int(seg.pointee.pageblockCount) { tagBytes[t] = Migratetype.movable.rawValue; t += 1 }

        // Zones: this one grows; the first-segment index of the zones above moves up.
        let zp = zone(z)
        if zp.pointee.segmentCount == 0 { zp.pointee.firstSegment = UInt64(pos) }
        zp.pointee.segmentCount &+= 1
        var above = z + 1
        while above < ZoneKind.count {
            if zone(above).pointee.segmentCount != 0 { zone(above).pointee.firstSegment &+= 1 }
            above += 1
        }
        if zp.pointee.presentPages == 0 || s < zp.pointee.startPFN { zp.pointee.startPFN = s }
        if e > zp.pointee.endPFN { zp.pointee.endPFN = e }
        zp.pointee.spannedPages = zp.pointee.endPFN &- zp.pointee.startPFN
        zp.pointee.presentPages &+= e &- s
        zp.pointee.managedPages &+= segEnd &- s
        zp.pointee.bootReservedPages &+= e &- segEnd

        // A pageblock shared with a neighbour (split by a hole) keeps the neighbour's tag:
        // one tag per pageblock per zone.
        var g = Int(zp.pointee.firstSegment)
        while g < Int(zp.pointee.firstSegment) &+ Int(zp.pointee.segmentCount) {
            let other = segment(g)
            if g != pos {
                for edge in [start, PFN(segEnd &- 1)] {
                    let pb = edge.pageblock
                    if pb >= other.pointee.firstPageblock && pb &- other.pointee.firstPageblock < other.pointee.pageblockCount {
                        pageblockTag(seg, edge).pointee = pageblockTag(other, edge).pointee
                    }
                }
            }
            g += 1
        }

        // Frames: the metadata pages reserved, the rest released as at boot.
        var f = PFN(segEnd)
        while f < end {
            let m = meta(f)
            m.pointee.zone = UInt8(z)
            transition(m, .bootReserve, head: false)
            m.pointee.owner = BootOwner.hotAddMemory
            f &+= 1
        }
        f = start
        while f.raw < segEnd { meta(f).pointee.zone = UInt8(z); f &+= 1 }
        releaseSegment(seg)
    }
}
