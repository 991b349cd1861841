import AllocatorText
import AllocatorModel
import BundledState
import Testing

/// Snapshots built by hand: the frame table decodes through the published offsets, and list
/// walks are bounded even on corrupted (cyclic) lists.
@Suite("Snapshot values")
struct SnapshotTests {
    /// A 64-byte FrameMeta layout as the kernel publishes it.
    static let layout = FrameTable.Layout(stride: 64, next: 0, prev: 8, flags: 16, order: 20, migratetype: 21, zone: 22,
                                          refcount: 24, segment: 28, owner: 32, lastSeq: 40)

    /// `count` frames; `links[pfn] = next`.
    static func table(count: Int, links: [UInt64: UInt64], orders: [UInt64: UInt8] = [:]) -> FrameTable {
        var bytes = [UInt8](repeating: 0, count: count * 64)
        func put(_ v: UInt64, _ at: Int) { for i in 0..<8 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
        for pfn in 0..<count {
            put(links[UInt64(pfn)] ?? .max, pfn * 64)
            put(.max, pfn * 64 + 8)
            bytes[pfn * 64 + 20] = orders[UInt64(pfn)] ?? 0
            put(UInt64(pfn) * 10, pfn * 64 + 40)
        }
        return FrameTable(layout: layout, bytes: bytes)
    }

    static func snapshot(_ frames: FrameTable, heads: [UInt64]) -> KernelSnapshot {
        let zone = ZoneSnapshot(index: 0, name: "DMA", firstSegment: 0, segmentCount: 1, startPFN: 0, endPFN: 16,
                                spannedPages: 16, presentPages: 16, managedPages: 16, bootReservedPages: 0, reservedPages: 0,
                                freePages: 0, allocatedPages: 0, watermarkMin: 0, watermarkLow: 0, watermarkHigh: 0,
                                lowmemReserve: [0], pcpCount: 0, pcpHigh: 0, pcpBatch: 0)
        var h = [UInt64](repeating: .max, count: 2 * 3)
        for (i, v) in heads.enumerated() { h[i] = v }
        let seg = SegmentSnapshot(index: 0, zone: 0, startPFN: 0, endPFN: 16, freePages: 0, reservedPages: 0,
                                  freeHeads: h, freeCounts: [UInt64](repeating: 0, count: 6))
        return KernelSnapshot(pageSize: 4096, maxOrder: 2, pageblockOrder: 1, migratetypes: 2, migratetypeSlots: 2,
                              sequence: 7, zones: [zone], segments: [seg], frames: frames)
    }

    /// A zone's segment range and a segment's zone are guest data (issue 24): a first segment
    /// near `Int.max`, a count of four billion, a segment of zone 7 in a 1-zone snapshot build a
    /// model without a trap (zone-parameters and frame-fields report them).
    @Test func overwrittenZoneAndSegmentIndicesDoNotTrapTheModel() {
        var s = Self.snapshot(Self.table(count: 16, links: [:]), heads: [])
        s.zones[0].firstSegment = .max - 1
        s.zones[0].segmentCount = 4_000_000_000
        #expect(s.zones[0].segmentIndices.isEmpty)
        s.zones[0].firstSegment = 0
        #expect(ModelState(snapshot: s).zones[0].segments == [0], "four billion indices clamped to the one segment")
        // a segment of zone 7 in a 1-zone snapshot: filed under zone 0, and the comparison
        // the replay ends with (every frame's pageblock tag through its segment's zone) runs
        s.segments[0].zone = 7
        let (booted, _) = ModelState.boot(like: s)
        #expect(booted.zones.count == 1 && booted.zones[0].segments == [0] && booted.segments.map(\.zone) == [0])
        #expect(ModelState(snapshot: s).segments.map(\.zone) == [0])
        _ = ModelComparison(model: booted, snapshot: s)
    }

    @Test func framesDecodeThroughTheLayout() {
        let t = Self.table(count: 4, links: [1: 3], orders: [1: 2])
        #expect(t.count == 4)
        #expect(t[1]?.next == 3 && t[1]?.order == 2 && t[1]?.lastSeq == 10 && t[1]?.prev == .max)
        #expect(t[4] == nil, "past the table")
    }

    @Test func buddyinfoCountsListNodes() {
        // order 0 list: 2 → 5 → 9; order 1: 4; migratetype 1, order 2: 8
        let t = Self.table(count: 16, links: [2: 5, 5: 9])
        let s = Self.snapshot(t, heads: [2, 4, .max, .max, .max, 8])
        let census = FreeListCensus(s)
        #expect(census.orders(zone: 0) == [3, 1, 1])
        #expect(census.broken.isEmpty)
        #expect(ProcText.buddyinfo(s.allocatorView(census)) == "Node 0, zone      DMA      3      1      1 \n")
    }

    @Test func aCycleCannotMakeTheWalkLoop() {
        let t = Self.table(count: 16, links: [1: 2, 2: 3, 3: 1])
        let census = FreeListCensus(Self.snapshot(t, heads: [1]))
        #expect(census.orders(zone: 0)[0] == 3, "counts the three blocks once, not past the cycle")
        #expect(census.broken.map(\.reason) == ["a cycle back to"])
        // a link past the frame table ends the walk
        let u = Self.table(count: 4, links: [1: 1000])
        let past = FreeListCensus(Self.snapshot(u, heads: [1]))
        #expect(past.orders(zone: 0)[0] == 1)
        #expect(past.broken.map(\.link) == [1000])
    }

    @Test func zoneTableShowsEveryZone() {
        let s = Self.snapshot(Self.table(count: 16, links: [:]), heads: [3])
        let text = ZoneTableText.text(s.allocatorView(FreeListCensus(s)))
        #expect(text.hasPrefix("sequence 7\nzone DMA    pfn [0x0, 0x10) spanned 16 present 16 managed 16"))
        #expect(text.hasSuffix("Node 0, zone      DMA      1      0      0 "), "/proc/buddyinfo ends each number with a space")
    }
}
