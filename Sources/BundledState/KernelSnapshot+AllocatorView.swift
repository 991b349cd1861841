import AllocatorView

extension KernelSnapshot {
    /// The snapshot as a kernel-neutral ``AllocatorView``: one node, its zones with their
    /// segments, free lists (the segments' counters and the blocks `census` walked), the
    /// per-CPU cache (its lists walked through the frame table), pageblocks per migratetype
    /// from the pageblock tags, and the slab heap's caches.
    public func allocatorView(_ census: FreeListCensus) -> AllocatorView {
        let orders = maxOrder + 1
        let names = (0..<migratetypeSlots).map { $0 < migratetypes ? Self.procMigratetypeName($0) : "slot \($0)" }
        let breaks = census.broken.map { b in
            ListBreak(zone: b.zone, segment: b.segment, order: b.order, migratetype: b.migratetype, walked: b.walked, link: b.link,
                      reason: b.reason, text: b.text(zoneName: b.zone < zones.count ? zones[b.zone].name : "zone \(b.zone)"))
        }
        func isComplete(zone: Int, segment: Int?, _ mt: Int, _ k: Int) -> Bool {
            !census.broken.contains { $0.zone == zone && (segment == nil || $0.segment == segment) && $0.migratetype == mt && $0.order == k }
        }
        let zoneViews = zones.map { z -> ZoneView in
            let members = segments.enumerated().filter { $0.element.zone == z.index }
            let segmentViews = members.map { position, seg in
                SegmentView(index: seg.index, startPFN: seg.startPFN, endPFN: seg.endPFN, freePages: seg.freePages,
                            reservedPages: seg.reservedPages, freeAreas: (0..<orders).map { k in
                    FreeArea(order: k, counter: nil, lists: (0..<migratetypeSlots).map { mt in
                        let i = mt * orders + k
                        return FreeList(migratetype: mt, counter: i < seg.freeCounts.count ? seg.freeCounts[i] : 0,
                                        walked: census.segmentCounts[position][mt][k],
                                        complete: isComplete(zone: z.index, segment: seg.index, mt, k))
                    })
                })
            }
            let zoneWalked = z.index < census.counts.count ? census.counts[z.index] : []
            let areas = (0..<orders).map { k in
                FreeArea(order: k, counter: nil, lists: (0..<migratetypeSlots).map { mt in
                    let counter = segmentViews.reduce(UInt64(0)) { $0 &+ ($1.freeAreas[k].lists[mt].counter ?? 0) }
                    return FreeList(migratetype: mt, counter: counter, walked: mt < zoneWalked.count ? zoneWalked[mt][k] : 0,
                                    complete: isComplete(zone: z.index, segment: nil, mt, k))
                })
            }
            return ZoneView(index: z.index, name: z.name, populated: z.managedPages > 0, startPFN: z.startPFN, endPFN: z.endPFN,
                            spannedPages: z.spannedPages, presentPages: z.presentPages, managedPages: z.managedPages,
                            freePages: .unsigned(z.freePages),
                            watermarks: Watermarks(min: z.watermarkMin, low: z.watermarkLow, high: z.watermarkHigh, boost: 0),
                            lowmemReserve: z.lowmemReserve, freeAreas: areas, segments: segmentViews, segmentCount: z.segmentCount,
                            perCPU: perCPUCaches(z), pageblocks: pageblockCounts(zone: z.index),
                            bootReservedPages: z.bootReservedPages, reservedPages: z.reservedPages, allocatedPages: z.allocatedPages)
        }
        return AllocatorView(kernel: "bundled", sequence: sequence, pageSize: pageSize, orderCount: orders,
                             pageblockOrder: pageblockOrder, migratetypeNames: names, migratetypesInUse: migratetypes,
                             nodes: [NodeView(id: 0, zones: zoneViews)], heap: heap.map(Self.heapView), listBreaks: breaks)
    }

    /// Migratetype names as Linux's `migratetype_names[]` spells them (the views print Linux's
    /// layout), `TypeN` past them.
    static func procMigratetypeName(_ mt: Int) -> String {
        let names = ["Unmovable", "Movable", "Reclaimable", "HighAtomic"]
        return mt >= 0 && mt < names.count ? names[mt] : "Type\(mt)"
    }

    /// Pageblocks per migratetype in use in `zone`, by the segments' tags; a pageblock split
    /// by a hole between two segments counts once.
    func pageblockCounts(zone: Int) -> [UInt64] {
        var blocks = [UInt64](repeating: 0, count: max(migratetypes, 0))
        var counted: Set<UInt64> = []
        for seg in segments where seg.zone == zone {
            for (i, tag) in seg.pageblockTags.enumerated() where Int(tag) < migratetypes {
                if counted.insert(seg.firstPageblock &+ UInt64(i)).inserted { blocks[Int(tag)] += 1 }
            }
        }
        return blocks
    }

    /// The zone's per-CPU caches the views show: the CPUs that came up (`cpuCount`; every
    /// row when unknown) and any other row that is not empty.
    func perCPUCaches(_ z: ZoneSnapshot) -> [PerCPUCache] {
        z.perCPU.filter { $0.cpu < (cpuCount ?? Int.max) || !$0.isEmpty }.map(perCPUCache)
    }

    /// One CPU's cache of a zone: its counters, and each slot's list walked through the frame
    /// table, bounded by the slot's count plus one.
    public func perCPUCache(_ z: PerCPUSnapshot) -> PerCPUCache {
        struct Unreadable: Error, CustomStringConvertible { var description: String }
        let frames = self.frames
        let lists = z.heads.enumerated().map { slot, head in
            let bound = Int(clamping: min(slot < z.counts.count ? z.counts[slot] : 0, 1 << 20)) + 1
            let walk = ListWalk.walk(first: head, terminator: KernelSnapshot.none, limit: bound) { pfn in
                guard let f = frames[pfn] else { throw Unreadable(description: "pfn 0x\(String(pfn, radix: 16)) has no frame record") }
                return f.next
            }
            return PerCPUList(order: 0, migratetype: slot, pages: walk.nodes, end: walk.end)
        }
        return PerCPUCache(cpu: z.cpu, count: .unsigned(z.count), high: z.high, batch: z.batch, lists: lists)
    }

    /// What slabinfo prints of each cache. Counts read from the guest: a sum or product past
    /// 2^64 shows as the largest value, never a trap (fuzz-snapshot, 2026-11-30); verify's
    /// slab-structure names the lie.
    static func heapView(_ heap: HeapSnapshot) -> HeapView {
        HeapView(caches: heap.caches.map { c in
            let (sum, o1) = c.partialSlabs.addingReportingOverflow(c.fullSlabs)
            let slabs = o1 ? UInt64.max : sum
            let (objects, o2) = slabs.multipliedReportingOverflow(by: c.objectsPerSlab)
            return SlabCacheView(name: c.name, objectSize: c.objectSize, objectsPerSlab: c.objectsPerSlab, pagesPerSlab: 1,
                                 activeObjects: c.inUse, totalObjects: o2 ? .max : objects, activeSlabs: slabs, slabs: slabs)
        })
    }
}
