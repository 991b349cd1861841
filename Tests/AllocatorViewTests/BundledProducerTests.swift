import BundledState
import AllocatorText
import AllocatorView
import Testing

/// The bundled kernel's snapshot → view: every renderer equals the view it replaced
/// (`LegacyViews.swift`), on clean and corrupted snapshots.
@Suite("Allocator view: the bundled kernel's producer")
struct BundledProducerTests {
    static let layout = FrameTable.Layout(stride: 64, next: 0, prev: 8, flags: 16, order: 20, migratetype: 21, zone: 22,
                                          refcount: 24, segment: 28, owner: 32, lastSeq: 40)

    /// 64 frames; `links[pfn] = next`.
    static func table(_ links: [UInt64: UInt64]) -> FrameTable {
        var bytes = [UInt8](repeating: 0, count: 64 * 64)
        func put(_ v: UInt64, _ at: Int) { for i in 0..<8 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        for pfn in 0..<64 {
            put(links[UInt64(pfn)] ?? .max, pfn * 64)
            put(.max, pfn * 64 + 8)
        }
        return FrameTable(layout: layout, bytes: bytes)
    }

    static func zone(_ index: Int, _ name: String, _ start: UInt64, _ end: UInt64, managed: UInt64, first: Int, count: Int) -> ZoneSnapshot {
        var z = ZoneSnapshot(index: index, name: name, firstSegment: first, segmentCount: count, startPFN: start, endPFN: end,
                             spannedPages: end - start, presentPages: end - start, managedPages: managed, bootReservedPages: 1,
                             reservedPages: 2, freePages: 9 + UInt64(index), allocatedPages: 3, watermarkMin: 1, watermarkLow: 2,
                             watermarkHigh: 3, lowmemReserve: [0, UInt64(index) * 7, 12], pcpCount: 2, pcpHigh: 8, pcpBatch: 4)
        z.pcpHeads = [20, .max, .max]
        z.pcpCounts = [2, 0, 0]
        return z
    }

    /// Three zones (the middle one has two segments, the last none and no managed pages),
    /// three migratetype slots (the spare one holding a block), pageblock tags with a
    /// pageblock split by a hole, a per-CPU list, and a heap whose counts overflow.
    static func snapshot(links: [UInt64: UInt64] = [2: 5, 5: 9, 20: 21, 33: 35]) -> KernelSnapshot {
        let orders = 3, slots = 3
        func heads(_ pairs: [Int: UInt64]) -> [UInt64] { (0..<orders * slots).map { pairs[$0] ?? .max } }
        func counts(_ pairs: [Int: UInt64]) -> [UInt64] { (0..<orders * slots).map { pairs[$0] ?? 0 } }
        var seg0 = SegmentSnapshot(index: 0, zone: 0, startPFN: 0, endPFN: 16, freePages: 7, reservedPages: 1,
                                   freeHeads: heads([0: 2, 1: 4, 5: 8]), freeCounts: counts([0: 3, 1: 1, 5: 1]))
        seg0.pageblockTags = [0, 1, 1, 0]
        seg0.firstPageblock = 0
        var seg1 = SegmentSnapshot(index: 1, zone: 1, startPFN: 16, endPFN: 30, freePages: 4, reservedPages: 0,
                                   freeHeads: heads([3: 18, 7: 24]), freeCounts: counts([3: 1, 7: 1]))
        seg1.pageblockTags = [1, 1, 0, 1]
        seg1.firstPageblock = 4
        var seg2 = SegmentSnapshot(index: 2, zone: 1, startPFN: 31, endPFN: 48, freePages: 3, reservedPages: 2,
                                   freeHeads: heads([0: 33, 6: 40]), freeCounts: counts([0: 2, 6: 1]))
        seg2.pageblockTags = [1, 0, 0, 1, 1]   // pageblock 7 is shared with seg1 (a hole at 30)
        seg2.firstPageblock = 7
        var s = KernelSnapshot(pageSize: 4096, maxOrder: orders - 1, pageblockOrder: 2, migratetypes: 2, migratetypeSlots: slots,
                               sequence: 77, zones: [zone(0, "DMA", 0, 16, managed: 15, first: 0, count: 1),
                                                     zone(1, "DMA32", 16, 48, managed: 30, first: 1, count: 2),
                                                     zone(2, "Normal", 48, 48, managed: 0, first: 3, count: 0)],
                               segments: [seg0, seg1, seg2], frames: table(links))
        s.heap = HeapSnapshot(caches: [HeapSnapshot.Cache(index: 0, objectSize: 16, objectsPerSlab: 256, partialHead: .max,
                                                          fullHead: .max, partialSlabs: 2, fullSlabs: 1, inUse: 700),
                                       HeapSnapshot.Cache(index: 1, objectSize: 64, objectsPerSlab: 1 << 40, partialHead: .max,
                                                          fullHead: .max, partialSlabs: .max, fullSlabs: 5, inUse: 3)],
                              slabOwnerBase: 0x51ab0000, poison: 0x6b, directMap: 0, pages: [:])
        return s
    }

    static func expectSameAsBefore(_ s: KernelSnapshot, sourceLocation: SourceLocation = #_sourceLocation) {
        let census = FreeListCensus(s)
        let view = s.allocatorView(census)
        #expect(ProcText.buddyinfo(view) == LegacyProcViews.buddyinfo(s, census), sourceLocation: sourceLocation)
        #expect(ProcText.pagetypeinfo(view) == LegacyProcViews.pagetypeinfo(s, census), sourceLocation: sourceLocation)
        #expect(ProcText.zoneinfo(view) == LegacyProcViews.zoneinfo(s), sourceLocation: sourceLocation)
        #expect(ProcText.slabinfo(view) == LegacyProcViews.slabinfo(s), sourceLocation: sourceLocation)
        #expect(ZoneTreeText.text(view) == LegacyZoneTree.text(s), sourceLocation: sourceLocation)
        #expect(ZoneTableText.text(view) == LegacyZoneTable.text(s), sourceLocation: sourceLocation)
        #expect(view.listBreaks.map(\.text) == census.broken.map { $0.text(zoneName: s.zones[$0.zone].name) },
                sourceLocation: sourceLocation)
    }

    @Test func everyViewEqualsTheOneItReplaced() {
        let s = Self.snapshot()
        Self.expectSameAsBefore(s)
        // and the scenario is not trivial: the views print what the snapshot holds
        let view = s.allocatorView(FreeListCensus(s))
        #expect(ProcText.buddyinfo(view) == "Node 0, zone      DMA      3      1      1 \nNode 0, zone    DMA32      4      1      0 \n")
        #expect(ProcText.pagetypeinfo(view).hasSuffix("Node 0, zone    DMA32            3            5 \n"), "pageblock 7 counted once")
        #expect(ZoneTreeText.text(view).contains("order  0: Unmovable 2  Movable 0  slot 2 1  (3 pages)"), "the spare slot shows when it holds blocks")
        #expect(ProcText.slabinfo(view).contains("18446744073709551615"))
    }

    @Test func brokenListsAreTheCensusBreaksInOrder() {
        let s = Self.snapshot(links: [2: 5, 5: 2, 20: 21, 33: 99])   // a cycle in DMA, a link out of the segment in DMA32
        Self.expectSameAsBefore(s)
        let view = s.allocatorView(FreeListCensus(s))
        #expect(view.listBreaks.map(\.reason) == ["a cycle back to", "a link outside the segment to"])
        #expect(view.zones[0].freeAreas[0].lists[0].complete == false)
        #expect(view.zones[0].segments?[0].freeAreas[0].lists[0].complete == false)
        #expect(view.zones[1].freeAreas[0].lists[0].walked == 1, "counted up to the break")
    }

    @Test func theViewCarriesTheSnapshotsStructure() {
        let s = Self.snapshot()
        let view = s.allocatorView(FreeListCensus(s))
        #expect(view.kernel == "bundled" && view.sequence == 77 && view.orderCount == 3 && view.pageblockOrder == 2)
        #expect(view.migratetypeNames == ["Unmovable", "Movable", "slot 2"] && view.migratetypesInUse == 2)
        #expect(view.nodes.map(\.id) == [0] && view.zones.map(\.name) == ["DMA", "DMA32", "Normal"])
        #expect(view.zones.map(\.populated) == [true, true, false])
        let dma32 = view.zones[1]
        #expect(dma32.segments?.map(\.index) == [1, 2] && dma32.segmentCount == 2)
        #expect(dma32.freeAreas[0].counter == nil, "the bundled kernel keeps no per-order counter")
        #expect(dma32.freeAreas[0].lists[0].counter == 2 && dma32.freeAreas[1].lists[2].counter == 1)
        #expect(dma32.pageblocks == [3, 5])
        #expect(dma32.freePages == .unsigned(10) && dma32.watermarks == Watermarks(min: 1, low: 2, high: 3, boost: 0))
        #expect(dma32.perCPU == [PerCPUCache(cpu: 0, count: .unsigned(2), high: 8, batch: 4, lists: [
            PerCPUList(order: 0, migratetype: 0, pages: [20, 21], end: .closed),
            PerCPUList(order: 0, migratetype: 1, pages: [], end: .closed),
            PerCPUList(order: 0, migratetype: 2, pages: [], end: .closed)])])
        #expect(view.heap?.caches.map(\.name) == ["kmalloc-16", "kmalloc-64"])
    }
}

/// The bundled kernel's frames answer the kernel-neutral frame-state lookup.
@Suite("Allocator view: frame states of the bundled kernel")
struct BundledFrameStateTests {
    @Test func statesFromTheFlags() {
        let f = KernelSnapshot.FlagBits()
        // frame: (flags, order, refcount)
        let frames: [UInt64: (UInt32, UInt8, UInt32)] = [
            0: (f.reserved, 0, 0), 4: (f.free | f.head, 2, 0), 5: (f.free, 0, 0), 6: (f.free, 0, 0),
            8: (f.allocated | f.head | f.slab, 0, 1), 9: (f.pcp, 0, 0), 10: (f.allocated | f.head, 1, 3), 12: (f.free | f.allocated, 0, 0),
        ]
        var bytes = [UInt8](repeating: 0, count: 16 * 64)
        for (pfn, (flags, order, refs)) in frames {
            let at = Int(pfn) * 64
            for i in 0..<4 { bytes[at + 16 + i] = UInt8(truncatingIfNeeded: flags >> (8 * i)) }
            bytes[at + 20] = order
            for i in 0..<4 { bytes[at + 24 + i] = UInt8(truncatingIfNeeded: refs >> (8 * i)) }
        }
        var s = BundledProducerTests.snapshot()
        s.frames = FrameTable(layout: BundledProducerTests.layout, bytes: bytes)
        let lookup: any FrameStateLookup = s
        #expect(lookup.frameState(0) == .reserved)
        #expect(lookup.frameState(4) == .freeHead(order: 2))
        #expect(lookup.frameState(6) == .freeTail(head: 4))
        #expect(lookup.frameState(8) == .allocated(refcount: 1, slab: true))
        #expect(lookup.frameState(9) == .perCPU)
        #expect(lookup.frameState(10) == .allocated(refcount: 3, slab: false))
        #expect(lookup.frameState(12) == .other(detail: "state bits 0x3"), "two states at once")
        #expect(lookup.frameState(16) == nil, "past the frame table")
    }
}
