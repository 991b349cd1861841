import AllocatorText
import AllocatorView
import Testing

/// The report page's kernel-neutral parts on a hand-built view, without a guest: each frame's
/// class from the zones and free lists, the cell size at every guest size, the runs of holes,
/// and a page that lists every mark with its check and frame before nothing else loads.
@Suite struct MemoryMapPageTests {
    /// Zone "Normal" over pfn [0x10, 0x40): an order-3 free block at 0x18, an order-0 at 0x30;
    /// pfn [0, 0x10) is in no zone.
    static let view: AllocatorView = {
        let lists3 = [FreeList(migratetype: 0, walked: 1, blockPFNs: [0x18])]
        let lists0 = [FreeList(migratetype: 1, walked: 1, blockPFNs: [0x30])]
        let areas = [FreeArea(order: 0, counter: 1, lists: lists0), FreeArea(order: 3, counter: 1, lists: lists3)]
        let zone = ZoneView(index: 0, name: "Normal", populated: true, startPFN: 0x10, endPFN: 0x40, spannedPages: 0x30,
                            presentPages: 0x30, managedPages: 0x30, freeAreas: areas)
        return AllocatorView(kernel: "test", pageSize: 4096, orderCount: 11, pageblockOrder: 2, migratetypeNames: ["Unmovable", "Movable"],
                             migratetypesInUse: 2, nodes: [NodeView(id: 0, zones: [zone])], listBreaks: [])
    }()

    @Test func frameClassesFromTheView() {
        let c = MemoryMapPage.frameClasses(Self.view, violations: [0x31])
        #expect(c.count == 0x40)
        #expect(c[0x0] == .hole && c[0xf] == .hole && c[0x10] == .notFree && c[0x17] == .notFree)
        #expect((0x18..<0x20).allSatisfy { c[$0] == .freeLarge }, "order 3 ≥ the pageblock order 2")
        #expect(c[0x20] == .notFree && c[0x30] == .freeSmall && c[0x31] == .violation && c[0x3f] == .notFree)
        #expect(MemoryMapPage.runs(c) == [MemoryMapPage.Run(.hole, start: 0, end: 0x10)])
    }

    /// A zone whose end lies below its start (Linux: zone_start_pfn + spanned_pages wrapped;
    /// the bundled kernel: an overwritten endPFN) draws no frames instead of trapping (issue 24).
    @Test func aZoneEndingBeforeItStartsIsEmpty() {
        var view = Self.view
        view.nodes[0].zones[0].endPFN = 0x8
        view.nodes[0].zones.append(ZoneView(index: 1, name: "DMA32", populated: true, startPFN: 0x20, endPFN: 0x40,
                                            spannedPages: 0x20, presentPages: 0x20, managedPages: 0x20, freeAreas: []))
        let c = MemoryMapPage.frameClasses(view, violations: [])
        #expect(c.count == 0x40 && c[0x10] == .hole && c[0x20] == .notFree)
    }

    @Test(arguments: [(UInt64(32736), UInt64(1)), (65536, 1), (65537, 2), (262112, 4), (8 << 20, 128)])
    func cellsStayWithin256Rows(frames: UInt64, per: UInt64) {
        let layout = MemoryMapLayout(frameCount: frames)
        #expect(layout.framesPerCell == per && layout.rows <= 256 && layout.cellSize == 4)
    }

    @Test func pageListsMarksAfterTitleAndVerdict() {
        let marks = [MemoryMapPage.Mark(check: "order-recorded", pfn: 0x31, text: "order-recorded: zone Normal pfn 0x31: <bad>", decode: "flags </script>")]
        let page = MemoryMapPage.page(Self.view, title: "t", marks: marks, sections: [])
        let html = MemoryMapHTML.render(page)
        let h1 = html.range(of: "<h1>t</h1>"), verdict = html.range(of: "id=\"verdict\" class=\"bad\""), map = html.range(of: "<canvas id=\"map\"")
        #expect(h1 != nil && verdict != nil && map != nil)
        if let h1, let verdict, let map { #expect(h1.lowerBound < verdict.lowerBound && verdict.lowerBound < map.lowerBound) }
        #expect(html.contains("data-check=\"order-recorded\" data-pfn=\"0x31\">") && html.contains("&lt;bad&gt;"))
        #expect(html.components(separatedBy: "</script>").count == 2, "a decode cannot end the script")
        #expect(html.contains("[16,64,\"Normal\"]") && html.contains("pfn 0x0 · 0x0</div>"))
    }
}
