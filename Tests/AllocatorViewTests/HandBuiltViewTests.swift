import AllocatorText
import AllocatorView
import Testing

/// Every renderer on a view built by hand: what a kernel keeps is printed in /proc's
/// layout, what it does not keep (nil) is left out, never printed as 0.
@Suite("Allocator view: renderers on a hand-built view")
struct HandBuiltViewTests {
    static func area(_ order: Int, counter: UInt64? = nil, _ walked: [UInt64]) -> FreeArea {
        FreeArea(order: order, counter: counter, lists: walked.enumerated().map { FreeList(migratetype: $0.offset, walked: $0.element) })
    }

    /// Node 1 with a populated zone (everything known) and an empty one (nothing optional known).
    static var view: AllocatorView {
        let full = ZoneView(index: 0, name: "Normal", populated: true, startPFN: 0x100, endPFN: 0x300, spannedPages: 0x200,
                            presentPages: 500, managedPages: 480, freePages: .signed(42),
                            watermarks: Watermarks(min: 5, low: 6, high: 7, boost: 1), lowmemReserve: [0, 32],
                            freeAreas: [area(0, counter: 9, [3, 4]), area(1, counter: 2, [1, 1])],
                            perCPU: [PerCPUCache(cpu: 0, count: .signed(6), high: 60, batch: 10), PerCPUCache(cpu: 1, count: nil)],
                            pageblocks: [1, 3])
        let empty = ZoneView(index: 1, name: "Movable", populated: false, startPFN: 0, endPFN: 0, spannedPages: 0,
                             presentPages: 0, managedPages: 0, freeAreas: [area(0, [0, 0]), area(1, [0, 0])])
        return AllocatorView(kernel: "test", pageSize: 4096, orderCount: 2, pageblockOrder: 1, migratetypeNames: ["Unmovable", "Movable"],
                             migratetypesInUse: 2, nodes: [NodeView(id: 1, zones: [full, empty])],
                             heap: HeapView(caches: [SlabCacheView(name: "dentry", objectSize: 192, objectsPerSlab: 21, pagesPerSlab: 1,
                                                                   activeObjects: 40, totalObjects: 42, activeSlabs: 2, slabs: 2)]))
    }

    @Test func buddyinfoPrintsTheCounterWhereKept() {
        #expect(ProcText.buddyinfo(Self.view) == "Node 1, zone   Normal      9      2 \n")
        var walkedOnly = Self.view
        walkedOnly.nodes[0].zones[0].freeAreas[0].counter = nil
        #expect(ProcText.buddyinfo(walkedOnly) == "Node 1, zone   Normal      7      2 \n", "no counter: the blocks walked")
    }

    @Test func pagetypeinfoBothTables() {
        #expect(ProcText.pagetypeinfo(Self.view) == """
            Page block order: 1
            Pages per block:  2

            Free pages count per migrate type at order       0      1 
            Node    1, zone   Normal, type    Unmovable      3      1 
            Node    1, zone   Normal, type      Movable      4      1 

            Number of blocks type     Unmovable      Movable 
            Node 1, zone   Normal            1            3 

            """)
        var noBlocks = Self.view
        noBlocks.nodes[0].zones[0].pageblocks = nil
        noBlocks.pageblockOrder = nil
        noBlocks.procListCountLimit = 3
        #expect(ProcText.pagetypeinfo(noBlocks) == """
            Free pages count per migrate type at order       0      1 
            Node    1, zone   Normal, type    Unmovable      3      1 
            Node    1, zone   Normal, type      Movable      3      1 

            """, "no pageblock counts: no block table; the walk capped at the view's limit")
    }

    @Test func zoneinfoLeavesOutWhatTheKernelDoesNotKeep() {
        #expect(ProcText.zoneinfo(Self.view) == """
            Node 1, zone   Normal
              pages free     42
                    boost    1
                    min      5
                    low      6
                    high     7
                    spanned  512
                    present  500
                    managed  480
                    cma      0
                    protection: (0, 32)
                  nr_free_pages 42
              pagesets
                cpu: 0
                          count: 6
                          high:  60
                          batch: 10
                cpu: 1
              node_unreclaimable:  0
              start_pfn:           256
            Node 1, zone  Movable
              pages free     0
                    spanned  0
                    present  0
                    managed  0
                    cma      0
                  nr_free_pages 0
              pagesets
              node_unreclaimable:  0
              start_pfn:           0

            """)
    }

    @Test func slabinfoOneLinePerCache() {
        let lines = ProcText.slabinfo(Self.view).split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[0] == "slabinfo - version: 2.1")
        #expect(lines[2] == "dentry                40     42    192   21    1 : tunables    0    0    0 : slabdata      2      2      0")
        var noHeap = Self.view
        noHeap.heap = nil
        #expect(ProcText.slabinfo(noHeap).split(separator: "\n").count == 2)
    }

    @Test func zoneTreeWithAndWithoutSegments() {
        #expect(ZoneTreeText.text(Self.view) == """
            zone Normal  pfn [0x100, 0x300)  managed 480  free 42
              order  0: Unmovable 3  Movable 4  (7 pages)
              order  1: Unmovable 1  Movable 1  (4 pages)
            zone Movable  pfn [0x0, 0x0)  managed 0  free 0
            """)
        var segmented = Self.view
        segmented.sequence = 5
        segmented.nodes[0].zones[0].segmentCount = 1
        segmented.nodes[0].zones[0].segments = [SegmentView(index: 3, startPFN: 0x100, endPFN: 0x180, freePages: 11, reservedPages: nil,
                                                             freeAreas: [FreeArea(order: 0, counter: nil, lists: [
                                                                FreeList(migratetype: 0, counter: 2, walked: 1), FreeList(migratetype: 1, walked: 0),
                                                                FreeList(migratetype: 2, counter: 0, walked: 0)])])]
        #expect(ZoneTreeText.text(segmented).hasPrefix("""
            sequence 5
            zone Normal  pfn [0x100, 0x300)  managed 480  free 42  segments 1
              segment 3  pfn [0x100, 0x180)  pages 128  free 11
                order  0: Unmovable 2  Movable 0  (2 pages)
            zone Movable
            """), "a list's own counter where kept; an empty spare slot hidden; no reserved counter, none printed")
    }

    @Test func zoneTableAsAColumnTableOrALinePerZone() {
        #expect(ZoneTableText.text(Self.view) { "node \($0.id): test" } == """
            node 1: test
            zone     start pfn  spanned  present  managed  free  on lists  per-CPU  min  low  high
            Normal       0x100      512      500      480    42        13        6    5    6     7
            Movable        0x0        0        0        0     -         -        -    -    -     -
            free: vm_stat[NR_FREE_PAGES]; on lists: Σ nr_free × 2^order; per-CPU: pages on the CPUs' per_cpu_pages lists

            Node 1, zone   Normal      9      2 
            """, "no kernel counts of reserved and allocated pages: a table per node, '-' where a zone has nothing")
        var counted = Self.view
        counted.sequence = 5
        for i in counted.nodes[0].zones.indices {
            counted.nodes[0].zones[i].bootReservedPages = 1
            counted.nodes[0].zones[i].reservedPages = 2
            counted.nodes[0].zones[i].allocatedPages = 3
        }
        counted.listBreaks = [ListBreak(zone: 0, segment: nil, order: 0, migratetype: 1, walked: 2, link: 7, reason: "a cycle back to", text: "the list")]
        #expect(ZoneTableText.text(counted) == """
            sequence 5
            zone Normal pfn [0x100, 0x300) spanned 512 present 500 managed 480 boot-reserved 1 reserved 2 free 42 pcp 6 allocated 3 min 5 low 6 high 7 segments -
            zone Movable pfn [0x0, 0x0) spanned 0 present 0 managed 0 boot-reserved 1 reserved 2 free - pcp 0 allocated 3 min - low - high - segments -
            Node 1, zone   Normal      9      2 
            broken free list: the list
            """, "the kernel's own counts: a line per zone, then buddyinfo and each broken list")
    }
}
