import BundledChecks
import BundledState
import Testing

/// The verifier on a hand-made 16-frame segment: clean, then broken one way at a time.
@Suite("Verifier")
struct VerifierTests {
    /// Frames 0-7 a free order-3 block, 8-11 a free order-2 block, 12-15 an allocated order-2 block.
    struct Frames {
        var flags = [UInt32](repeating: 0b1, count: 16)       // free
        var order = [UInt8](repeating: 0, count: 16)
        var mt = [UInt8](repeating: 1, count: 16)
        var refcount = [UInt32](repeating: 0, count: 16)
        var next = [UInt64](repeating: .max, count: 16)
        var prev = [UInt64](repeating: .max, count: 16)
        init() {
            flags[0] = 0b1 | 1 << 10; order[0] = 3
            flags[8] = 0b1 | 1 << 10; order[8] = 2
            for i in 12..<16 { flags[i] = 0b10 }
            flags[12] |= 1 << 10; order[12] = 2; refcount[12] = 1
        }

        func table() -> FrameTable {
            var b = [UInt8](repeating: 0, count: 16 * 64)
            func put(_ v: UInt64, _ at: Int, _ n: Int) { for i in 0..<n { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
            for p in 0..<16 {
                put(next[p], p * 64, 8); put(prev[p], p * 64 + 8, 8); put(UInt64(flags[p]), p * 64 + 16, 4)
                b[p * 64 + 20] = order[p]; b[p * 64 + 21] = mt[p]; b[p * 64 + 22] = 0
                put(UInt64(refcount[p]), p * 64 + 24, 4); put(0, p * 64 + 28, 2)
            }
            return FrameTable(layout: SnapshotTests.layout, bytes: b)
        }
    }

    static func snapshot(_ f: Frames = Frames(), heads: [Int: UInt64] = [4 + 3: 0, 4 + 2: 8],
                         counts: [Int: UInt64] = [4 + 3: 1, 4 + 2: 1], free: UInt64 = 12) -> KernelSnapshot {
        var h = [UInt64](repeating: .max, count: 8), c = [UInt64](repeating: 0, count: 8)
        for (i, v) in heads { h[i] = v }
        for (i, v) in counts { c[i] = v }
        let seg = SegmentSnapshot(index: 0, zone: 0, startPFN: 0, endPFN: 16, freePages: free, reservedPages: 0, freeHeads: h, freeCounts: c)
        var zone = ZoneSnapshot(index: 0, name: "DMA", firstSegment: 0, segmentCount: 1, startPFN: 0, endPFN: 16,
                                spannedPages: 16, presentPages: 16, managedPages: 16, bootReservedPages: 0, reservedPages: 0,
                                freePages: free, allocatedPages: 4, watermarkMin: 32, watermarkLow: 40, watermarkHigh: 48,
                                lowmemReserve: [0], pcpCount: 0, pcpHigh: 6, pcpBatch: 1)  // the contract's formulas for 16 pages
        zone.pcpHeads = [.max, .max]
        zone.pcpCounts = [0, 0]
        return KernelSnapshot(pageSize: 4096, maxOrder: 3, pageblockOrder: 2, migratetypes: 2, migratetypeSlots: 2,
                              sequence: 1, zones: [zone], segments: [seg], frames: f.table())
    }

    @Test func perCPUTailAndDrainCursor() {
        var s = Self.snapshot()
        s.zones[0].pcpTails = [.max, .max]
        s.zones[0].pcpDrainCursor = 1
        #expect(Verifier(s).run().passed)
        s.zones[0].pcpTails = [5, .max]   // an empty list with a tail
        #expect(Verifier(s).run().failedChecks == [.perCPU])
        s.zones[0].pcpTails = [.max, .max]
        s.zones[0].pcpDrainCursor = 7     // past the slots
        #expect(Verifier(s).run().failedChecks == [.perCPU])
    }

    @Test func zoneParametersFollowTheFormulas() {
        var s = Self.snapshot()
        s.zones[0].watermarkLow += 1
        s.zones[0].pcpHigh = 7
        s.zones[0].presentPages = 17
        let r = Verifier(s).run()
        #expect(r.failedChecks == [.zoneParameters])
        #expect(r.counts[.zoneParameters] == 3)
    }

    @Test func cleanStatePasses() {
        let r = Verifier(Self.snapshot()).run()
        #expect(r.passed, "\(r.text)")
        #expect(r.framesChecked == 16)
    }

    @Test func cycleIsFoundAndTheWalkEnds() {
        var f = Frames()
        f.next[8] = 8  // order-2 list: 8 → 8 → …
        let r = Verifier(Self.snapshot(f)).run()
        #expect(r.failedChecks.contains(.freeListLinks))
        #expect(r.violations.contains { $0.check == .freeListLinks && $0.found.contains("cycle") })
    }

    @Test func lostBlockAndCounters() {
        let r = Verifier(Self.snapshot(heads: [7: 0], counts: [7: 1])).run()   // the order-2 block is on no list
        #expect(r.counts[.freeListMembership] == 1)
        #expect(r.violations.first { $0.check == .freeListMembership }?.pfn == 8)
        let drift = Verifier(Self.snapshot(free: 13)).run()
        #expect(drift.failedChecks == [.counters])
    }

    @Test func coalescibleRefcountAndStates() {
        var f = Frames()
        f.flags[12] = 0b1 | 1 << 10; f.refcount[12] = 0     // 12 free too: buddies 8 and 12 both free
        for i in 13..<16 { f.flags[i] = 0b1 }
        let both = Verifier(Self.snapshot(f, heads: [7: 0, 6: 8], counts: [7: 1, 6: 1])).run()
        #expect(both.failedChecks.contains(.coalescible))
        var g = Frames()
        g.refcount[12] = 0   // an allocated head with no reference left
        #expect(Verifier(Self.snapshot(g)).run().failedChecks == [.refcount])
        var shared = Frames()
        shared.refcount[12] = 3   // shared through get(): legal
        #expect(Verifier(Self.snapshot(shared)).run().passed)
        // a bit the kernel does not define, and a quarantined frame that is not reserved
        var undefined = Frames()
        undefined.flags[13] |= 1 << 8
        var snap = Self.snapshot(undefined)
        snap.flags.defined = 0b1111_1111_1111_1 & ~(0b111 << 7)
        #expect(Verifier(snap).run().failedChecks == [.tiling])
        var quarantined = Frames()
        quarantined.flags[13] |= 1 << 6
        snap = Self.snapshot(quarantined)
        snap.flags.poisoned = 1 << 6
        #expect(Verifier(snap).run().failedChecks == [.tiling])
        var h = Frames()
        h.flags[3] = 0b11  // free and allocated
        #expect(Verifier(Self.snapshot(h)).run().failedChecks.contains(.tiling))
        var i = Frames()
        i.flags[5] |= 1 << 10  // a stale head inside the order-3 block
        #expect(Verifier(Self.snapshot(i)).run().failedChecks.contains(.interiorHead))
    }

    @Test func reportNamesEveryCheck() {
        #expect(Set(Check.allCases.map(\.rawValue)).count == Check.allCases.count)
        var f = Frames()
        f.next[0] = 1000
        let r = Verifier(Self.snapshot(f)).run()
        #expect(r.text.contains("free-list-links zone DMA segment 0 pfn 0x0: expected a link inside the segment"), "\(r.text)")
    }
}

@Suite("Verifier: bitmaps and tags")
struct BitmapVerifierTests {
    /// The hand-made segment with correct bitmaps: free heads 0 (order 3) and 8 (order 2),
    /// frames 12-15 allocated, everything in migratetype-1 pageblocks (order 2 = 4 frames).
    static func snapshot(parityFlip: (order: Int, bit: Int)? = nil, allocFlip: Int? = nil, tag: UInt8 = 1) -> KernelSnapshot {
        var s = VerifierTests.snapshot()
        var seg = s.segments[0]
        seg.parity = [[0], [0], [0], [0]]
        seg.parity[2][0] = 1 << 1     // order-2 pair (8, 12): 8 free, 12 not
        seg.parity[3][0] = 1 << 0     // order-3 pair (0, 8): 0 free at order 3, 8 is not order 3
        if let f = parityFlip { seg.parity[f.order][0] ^= 1 << UInt64(f.bit) }
        seg.allocBitmap = [0xF000]
        if let a = allocFlip { seg.allocBitmap[0] ^= 1 << UInt64(a) }
        seg.pageblockTags = [1, 1, tag, 1]
        seg.firstPageblock = 0
        s.segments[0] = seg
        return s
    }

    @Test func correctBitmapsPass() {
        let r = Verifier(Self.snapshot()).run()
        #expect(r.passed, "\(r.text)")
    }

    @Test func eachFlipIsFound() {
        let parity = Verifier(Self.snapshot(parityFlip: (2, 1))).run()
        #expect(parity.failedChecks == [.parity])
        #expect(parity.violations[0].expected.contains("0x8/0xc"))
        #expect(Verifier(Self.snapshot(allocFlip: 3)).run().failedChecks == [.allocBitmap])
        #expect(Verifier(Self.snapshot(tag: 0)).run().failedChecks == [.pageblockTags], "frames 8-11 are free movable")
        #expect(Verifier(Self.snapshot(tag: 9)).run().failedChecks == [.pageblockTags])
    }
}
