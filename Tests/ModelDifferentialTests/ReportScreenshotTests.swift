import BundledChecks
import BrowserSupport
import BundledKernel
import Foundation
import KernelHarness
import KernelMM
import Testing

/// `kmemscope report`'s page as a person sees it: KernelMM's state (with one corruption)
/// rendered by headless Chromium, and the screenshot's pixels read back at frames whose class
/// the test knows from the allocator itself.
@Suite(.enabled(if: HeadlessChromium.path != nil, "chromium is not installed (apt-get install chromium)"))
struct ReportScreenshotTests {

    @Test func cellsHaveTheColourOfWhatTheyHold() throws {
        let arena = try HostArena.differential(large: true)
        let pa = arena.allocator
        let block = try #require(try pa.allocate(AllocationRequest(order: 3, migratetype: .unmovable)))
        let movable = try #require(try pa.allocate(AllocationRequest(order: 2, migratetype: .movable)))
        let object = try pa.kmalloc(size: 64)
        let fault = try #require(pa.injectFault(.allocBitmapFlip))
        let snapshot = try arena.snapshot()
        let report = Verifier(snapshot).run()
        #expect(!report.passed)
        let freeLarge = try #require((0..<UInt64(snapshot.frames.count)).first { p in
            snapshot.frames[p].map { $0.flags & snapshot.flags.free != 0 && $0.flags & snapshot.flags.head != 0 && $0.order >= 9 } == true
                && !report.violations.contains { $0.pfn == p }
        })

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kmemscope-report-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("report.html"), png = dir.appendingPathComponent("shot.png")
        let html = MemoryMapReport.html(snapshot, report: report, title: "screenshot test")
        #expect(!html.contains("http://") && !html.contains("https://"), "self-contained")
        try Data(html.utf8).write(to: page)

        try HeadlessChromium.screenshot(page.absoluteString, width: MemoryMapReport.Grid.pageWidth,
                                        height: MemoryMapReport.Grid.mapTop + MemoryMapReport.grid(snapshot).mapHeight + 40, to: png.path)

        let grid = MemoryMapReport.grid(snapshot)
        #expect(grid.framesPerCell == 1)
        let probes: [(String, UInt64, MemoryMapReport.CellClass)] = [
            ("kernel image", 0x100, .bootReserved),
            ("hole", 0x640, .hole),
            ("order-3 unmovable block", block.raw + 5, .allocatedUnmovable),
            ("order-2 movable block", movable.raw + 1, .allocatedMovable),
            ("slab page", (object - arena.directMap) >> 12, .slab),
            ("free order ≥ 9 block", freeLarge + 17, .freeLarge),
            ("corrupted frame", fault.pfn.raw, .violation),
        ]
        let colors = try HeadlessChromium.pixels(png.path, probes.map { p -> (x: Int, y: Int) in let c = grid.center(of: p.1); return (c.x, c.y) })
        for (probe, color) in zip(probes, colors) {
            #expect(color == probe.2.color, "\(probe.0) at pfn 0x\(String(probe.1, radix: 16)): \(color), not \(probe.2.color) (\(probe.2.label))")
        }
    }
}
