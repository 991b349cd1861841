import AllocatorChecks
import AllocatorView
import Testing

/// The buddy-generic rules on views built by hand: a clean view passes, and each kind of
/// damage is found and named by its rule, at the block it concerns.
@Suite("Allocator checks: the buddy-generic rules on a hand-built view")
struct BuddyChecksTests {
    /// One node, one zone [0x1000, 0x2000), orders 0...3, two migratetypes. `blocks[order][mt]`
    /// are the PFNs listed; counters equal the lists unless given.
    static func view(_ blocks: [[[UInt64]]], nrFree: [UInt64]? = nil, listCounters: Bool = false,
                     breaks: [ListBreak] = [], perCPU: [PerCPUCache] = [], segments: Bool = false,
                     restriction: MergeRestriction? = nil) -> AllocatorView {
        let areas = blocks.enumerated().map { order, lists in
            FreeArea(order: order, counter: nrFree.map { $0[order] } ?? UInt64(lists.joined().count),
                     lists: lists.enumerated().map { mt, pfns in
                FreeList(migratetype: mt, counter: listCounters ? UInt64(pfns.count) : nil, walked: UInt64(pfns.count), blockPFNs: pfns)
            })
        }
        let segmentViews = segments ? [SegmentView(index: 0, startPFN: 0x1000, endPFN: 0x2000, freePages: nil, reservedPages: nil,
                                                   freeAreas: areas.map { var a = $0; a.counter = nil; return a })] : nil
        let zone = ZoneView(index: 1, name: "DMA32", populated: true, startPFN: 0x1000, endPFN: 0x2000, spannedPages: 0x1000,
                            presentPages: 0x1000, managedPages: 0x1000, freeAreas: areas, segments: segmentViews, perCPU: perCPU)
        return AllocatorView(kernel: "test", pageSize: 4096, orderCount: blocks.count, pageblockOrder: 2,
                             migratetypeNames: ["Unmovable", "Movable"], migratetypesInUse: 2,
                             nodes: [NodeView(id: 0, zones: [zone])], listBreaks: breaks, mergeRestriction: restriction)
    }

    /// Orders 0...3, nothing listed.
    static let empty: [[[UInt64]]] = Array(repeating: [[], []], count: 4)

    static func with(_ entries: [(order: Int, mt: Int, pfn: UInt64)]) -> [[[UInt64]]] {
        var b = empty
        for e in entries { b[e.order][e.mt].append(e.pfn) }
        return b
    }

    static func rules(_ v: AllocatorView) -> [BuddyRule] { BuddyChecks.run(v).map(\.rule) }

    @Test func aCleanViewPasses() {
        let v = Self.view(Self.with([(3, 1, 0x1000), (2, 1, 0x1008), (0, 0, 0x100c), (3, 0, 0x1010)]), listCounters: true,
                          perCPU: [PerCPUCache(cpu: 0, count: .unsigned(3), lists: [
                              PerCPUList(order: 0, migratetype: 0, pages: [0x1020], end: .closed),
                              PerCPUList(order: 1, migratetype: 1, pages: [0x1022], end: .closed)])])
        #expect(BuddyChecks.run(v).isEmpty)
        #expect(BuddyChecks.run(Self.view(Self.with([(3, 1, 0x1000)]), segments: true)).isEmpty, "the same on a segment's lists")
    }

    @Test func aBrokenLinkAndACycleAreTheWalksFindings() {
        let broken = ListBreak(zone: 1, order: 2, migratetype: 0, walked: 1, link: 0x9999_0000, reason: "a link outside the zone to",
                               text: "zone DMA32 order 2: link to 0x99990000")
        let cycle = ListBreak(zone: 1, order: 0, migratetype: 1, walked: 2, link: 0x1001, reason: "a cycle back to",
                              text: "zone DMA32 order 0: a cycle back to 0x1001")
        let findings = BuddyChecks.run(Self.view(Self.empty, breaks: [broken, cycle]))
        #expect(findings.map(\.rule) == [.listLinks, .listLinks])
        #expect(findings.map(\.fact) == [.listBroken(broken), .listBroken(cycle)])
        #expect(findings.allSatisfy { $0.zone == 1 && $0.node == 0 && $0.segment == nil })
        var elsewhere = cycle
        elsewhere.zone = 0
        #expect(BuddyChecks.run(Self.view(Self.empty, breaks: [elsewhere])).isEmpty, "another zone's break is not this zone's")
    }

    @Test func aCounterOffByOne() {
        let findings = BuddyChecks.run(Self.view(Self.with([(1, 0, 0x1002)]), nrFree: [0, 2, 0, 0]))
        #expect(findings.map(\.rule) == [.orderCounter])
        #expect(findings.first?.fact == .orderCounter(order: 1, counter: 2, walked: 1))
        var v = Self.view(Self.with([(1, 0, 0x1002)]), listCounters: true)
        v.nodes[0].zones[0].freeAreas[1].lists[0].counter = 0
        #expect(BuddyChecks.run(v).map(\.fact) == [.listCounter(order: 1, migratetype: 0, counter: 0, walked: 1)])
        v.nodes[0].zones[0].freeAreas[1].lists[0].cutShort = true
        #expect(BuddyChecks.run(v).isEmpty, "a list read only in part is not compared")
    }

    @Test func aMisalignedBlock() {
        let findings = BuddyChecks.run(Self.view(Self.with([(2, 0, 0x1002)])))
        #expect(findings.map(\.rule) == [.orderAligned])
        #expect(findings.first?.pfn == 0x1002)
    }

    @Test func aBlockOutsideItsScope() {
        #expect(Self.rules(Self.view(Self.with([(0, 0, 0x2000)]))) == [.inRange])
        #expect(Self.rules(Self.view(Self.with([(3, 0, 0x0ff8)]), segments: true)) == [.inRange], "a segment's range")
    }

    @Test func aBlockOnTwoListsAndAnOverlap() {
        #expect(Self.rules(Self.view(Self.with([(1, 0, 0x1002), (1, 1, 0x1002)]))) == [.onOneList])
        let overlap = BuddyChecks.run(Self.view(Self.with([(0, 0, 0x1004), (3, 0, 0x1000)])))
        #expect(overlap.map(\.rule) == [.noOverlap])
        #expect(overlap.first?.fact == .overlaps(ListedBlock(pfn: 0x1004, order: 0, migratetype: 0),
                                                 container: ListedBlock(pfn: 0x1000, order: 3, migratetype: 0)))
    }

    @Test func unmergedBuddies() {
        let findings = BuddyChecks.run(Self.view(Self.with([(1, 0, 0x1002), (1, 1, 0x1000)])))
        #expect(findings.map(\.rule) == [.buddyMerged])
        #expect(findings.first?.pfn == 0x1000)
        #expect(findings.first?.fact == .unmerged(ListedBlock(pfn: 0x1000, order: 1, migratetype: 1), buddy: 0x1002))
        // The top order has no buddy; buddies of another order are no pair.
        #expect(Self.rules(Self.view(Self.with([(3, 0, 0x1000), (3, 0, 0x1008)]))).isEmpty)
        #expect(Self.rules(Self.view(Self.with([(1, 0, 0x1000), (0, 0, 0x1002)]))).isEmpty)
        // A kernel that keeps types apart from some order up (Linux at pageblock_order).
        let apart = MergeRestriction(fromOrder: 2, mergeableBelow: 1)
        #expect(Self.rules(Self.view(Self.with([(2, 0, 0x1000), (2, 1, 0x1004)]), restriction: apart)).isEmpty)
        #expect(Self.rules(Self.view(Self.with([(2, 1, 0x1000), (2, 1, 0x1004)]), restriction: apart)) == [.buddyMerged])
        #expect(Self.rules(Self.view(Self.with([(1, 0, 0x1000), (1, 1, 0x1002)]), restriction: apart)) == [.buddyMerged],
                "below the restriction's order the types do not matter")
    }

    @Test func aPerCPUCountOffByOne() {
        let lists = [PerCPUList(order: 0, migratetype: 0, pages: [0x1020, 0x1021], end: .closed)]
        let findings = BuddyChecks.run(Self.view(Self.empty, perCPU: [PerCPUCache(cpu: 1, count: .signed(3), lists: lists)]))
        #expect(findings.map(\.fact) == [.perCPUCount(cpu: 1, count: .signed(3), listed: 2)])
        let broken = [PerCPUList(order: 0, migratetype: 0, pages: [0x1020], end: .cycle(node: 0x1020))]
        #expect(BuddyChecks.run(Self.view(Self.empty, perCPU: [PerCPUCache(cpu: 0, count: .unsigned(9), lists: broken)])).isEmpty,
                "a list that did not walk to its end is no count")
    }

    @Test func impossibleOrdersAndPFNsNeitherTrapNorLoop() {
        let blocks = [ListedBlock(pfn: .max, order: 63, migratetype: 0), ListedBlock(pfn: 0, order: 64, migratetype: 0),
                      ListedBlock(pfn: .max - 1, order: 0, migratetype: 9), ListedBlock(pfn: 0, order: -1, migratetype: 0)]
        let findings = BlockRules.check(blocks, start: .max - 4, pages: 8, orderCount: 70, restriction: nil)
        #expect(findings.contains { $0.rule == .orderAligned && $0.fact == .impossibleOrder(blocks[1]) })
        #expect(findings.contains { $0.rule == .inRange })
    }
}
