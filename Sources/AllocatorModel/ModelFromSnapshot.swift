import AllocatorView
import BundledState

/// Starting the model from a snapshot taken earlier: every list in the order the snapshot's
/// links give it, the per-CPU lists and drain cursor, pageblock tags, allocated and reserved
/// frames, counters, and the heap. The comparison reads snapshots the same way, so a model
/// and a snapshot are compared as two `ModelState`s.
extension ModelState {
    /// The state a snapshot shows. Walks are bounded (a segment's page count, a zone's managed
    /// pages) so a corrupted snapshot cannot make them loop; what could not be read is listed in
    /// `problems`.
    public init(snapshot s: KernelSnapshot, poisoning: Bool = false) {
        self = ModelState(zones: [], segments: [], directMap: s.heap?.directMap ?? 0)
        self.poisoning = poisoning
        sequence = s.sequence
        zoneLimits = s.zoneLimits
        heldBack = Self.heldBackRAM(s, plus: [])
        cover(s.segments.map { $0.startPFN..<max($0.startPFN, $0.endPFN) })
        let f = s.flags
        let orders = s.maxOrder + 1
        func walk(_ head: UInt64, bound: UInt64, inside: (UInt64) -> Bool, _ what: String) -> [UInt64] {
            var list: [UInt64] = []
            var seen: Set<UInt64> = []
            var p = head
            while p != KernelSnapshot.none {
                guard inside(p), let m = s.frames[p], seen.insert(p).inserted, UInt64(list.count) < bound else {
                    problems.append("\(what): the walk stopped at \(hexOrNone(p)) (outside, a cycle, or too long)")
                    break
                }
                if m.prev != (list.last ?? KernelSnapshot.none) {
                    problems.append("\(what): \(hexOrNone(p)).prev is \(hexOrNone(m.prev)), not \(hexOrNone(list.last ?? KernelSnapshot.none))")
                }
                list.append(p)
                p = m.next
            }
            return list
        }
        zones = s.zones.map { z in
            // only segments that exist: a zone whose count was overwritten (zone-parameters
            // says so) must not make a list of four billion indices
            var zone = Zone(index: z.index, segments: Array(z.segmentIndices.clamped(to: 0..<s.segments.count)))
            zone.managedPages = z.managedPages
            zone.freePages = z.freePages
            zone.allocatedPages = z.allocatedPages
            zone.reservedPages = z.reservedPages
            zone.watermarkMin = z.watermarkMin
            zone.watermarkLow = z.watermarkLow
            zone.watermarkHigh = z.watermarkHigh
            zone.lowmemReserve = z.lowmemReserve
            zone.pcpBatch = z.pcpBatch
            zone.pcpHigh = z.pcpHigh
            for cache in z.perCPU where cache.cpu < Self.maxCPUs {
                zone.caches[cache.cpu].drainCursor = Int((cache.drainCursor ?? 0) % UInt64(Self.migratetypeSlots))
                for (slot, head) in cache.heads.enumerated() where slot < Self.migratetypeSlots {
                    zone.caches[cache.cpu].lists[slot] = walk(head, bound: z.managedPages, inside: { _ in true },
                                                              "zone \(z.name) cpu \(cache.cpu) pcp list \(slot)")
                }
            }
            return zone
        }
        for z in zones.indices {
            for cache in zones[z].caches { for (slot, list) in cache.lists.enumerated() { for p in list { cached[p] = slot } } }
        }
        var copies: [UInt64: (zone: Int, segment: Int, tag: Int)] = [:]
        for seg in s.segments {
            var segment = Segment(index: seg.index, zone: Self.modelZone(seg.zone, zoneCount: zones.count), startPFN: seg.startPFN, endPFN: seg.endPFN)
            segment.freePages = seg.freePages
            segment.reservedPages = seg.reservedPages
            for mt in 0..<min(s.migratetypeSlots, Self.migratetypeSlots) {
                for k in 0..<min(orders, Self.maxOrder + 1) where mt * orders + k < seg.freeHeads.count {
                    let list = walk(seg.freeHeads[mt * orders + k], bound: seg.pageCount, inside: { seg.startPFN <= $0 && $0 < seg.endPFN },
                                    "segment \(seg.index) list mt \(mt) order \(k)")
                    segment.freeLists[mt][k] = list
                    for p in list { freeBlocks[p] = FreeBlock(order: k, migratetype: mt) }
                }
            }
            // One tag per pageblock per zone; a copy that differs from the first one read is a problem.
            for (i, tag) in seg.pageblockTags.enumerated() where seg.zone < zones.count {
                let pb = seg.firstPageblock + UInt64(i)
                if let earlier = copies[pb], earlier.zone == seg.zone, earlier.tag != Int(tag) {
                    problems.append("pageblock \(hexOrNone(pb << UInt64(Self.pageblockOrder))): segment \(seg.index)'s tag \(tag) differs from segment \(earlier.segment)'s \(earlier.tag)")
                }
                copies[pb] = (seg.zone, seg.index, Int(tag))
                if tag != 1 { zones[seg.zone].tags[pb] = Int(tag) }
            }
            var p = seg.startPFN
            while p < seg.endPFN {
                guard let m = s.frames[p] else { break }
                if m.flags & f.allocated != 0 && m.flags & f.head != 0 {
                    // The block's frames carry the allocation's sequence; the head a later get/put's.
                    let handedOut = m.order > 0 ? s.frames[p + 1]?.lastSeq ?? m.lastSeq : m.lastSeq
                    allocated[p] = AllocatedBlock(order: Int(m.order), migratetype: Int(m.migratetype), owner: m.owner,
                                                  refcount: m.refcount, slab: m.flags & f.slab != 0, lastSeq: handedOut,
                                                  headLastSeq: m.lastSeq != handedOut ? m.lastSeq : nil)
                    if m.owner == Self.largeHeapOwner && m.flags & f.slab == 0 { heap.large[p] = Int(m.order) }
                } else if m.flags & f.reserved != 0 {
                    reserved[p] = ReservedFrame(owner: m.owner, quarantined: m.flags & f.poisoned != 0, lastSeq: m.lastSeq)
                }
                p += 1
            }
            segments.append(segment)
        }
        if let h = s.heap { loadHeap(h, s) }
    }

    /// The slab caches: partial and full lists from their heads, each slab's free objects from the
    /// links in its page.
    mutating func loadHeap(_ h: HeapSnapshot, _ s: KernelSnapshot) {
        heap.directMap = h.directMap
        for c in h.caches where c.index < heap.caches.count {
            heap.caches[c.index].objectSize = c.objectSize
            heap.caches[c.index].objectsPerSlab = c.objectsPerSlab
            heap.caches[c.index].inUse = c.inUse
            for full in [false, true] {
                var list: [UInt64] = []
                var p = full ? c.fullHead : c.partialHead
                while p != KernelSnapshot.none, heap.slabs[p] == nil, let m = s.frames[p], list.count < 1 << 20 {
                    list.append(p)
                    heap.slabs[p] = ModelHeap.Slab(cache: c.index, free: slabFreeList(p, m, c, h), inUse: m.slabInfo & 0xffff_ffff)
                    p = m.next
                }
                if full { heap.caches[c.index].full = list } else { heap.caches[c.index].partial = list }
            }
        }
    }

    /// The free objects of slab `pfn`, first free first, following the 8-byte links in its page.
    func slabFreeList(_ pfn: UInt64, _ m: FrameRecord, _ c: HeapSnapshot.Cache, _ h: HeapSnapshot) -> [UInt64] {
        guard let page = h.pages[pfn] else { return [] }
        let base = h.directMap &+ pfn &* ModelState.pageSize
        var objects: [UInt64] = []
        var seen: Set<UInt64> = []
        var object = m.slabFree
        while object != 0, object >= base, object + 8 <= base + UInt64(page.count), seen.insert(object).inserted {
            objects.append(object)
            let at = Int(object - base)
            object = page[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        return objects
    }
}
