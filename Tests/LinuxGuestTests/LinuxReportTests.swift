import AllocatorText
import BrowserSupport
import Foundation
import GDBRemote
import LinuxKernel
import Testing

/// `report --kernel linux` on Debian's kernel in QEMU with one free page corrupted through the
/// stub (its recorded order): the finding is listed with its check and frame and ringed, the
/// zones are banded, and the page draws in headless Chromium (pixels read back; the page and
/// screenshot kept in `.build/report-page/`).
@Suite(.serialized, .enabled(if: LinuxGuest.isAvailable && HeadlessChromium.path != nil,
                             "needs Debian's kernel (apt-get download) and chromium"))
struct LinuxReportTests {
    /// Whether this suite runs (its lease of the shared 6.1 guest is expected: GuestConfiguration).
    static var runs: Bool { LinuxGuest.isAvailable && HeadlessChromium.path != nil }

    @Test func corruptedFreePageIsRingedAndListed() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: LinuxVerifyTests.binary), "swift build --product kmemscope first")
        let lease = try await GuestPool.lease(.plain)
        defer { lease.release() }
        let guest = lease.guest
        let linux = try guest.kmemscopeArguments()
        let symbols = try SymbolMap(parsing: try guest.section("kallsyms"))
        let target = try guest.connect()
        let kernel = try LinuxKernelTarget(memory: RemoteTargetMemory(target: target), symbols: symbols)
        let state = try kernel.decodeBuddy()
        let zone = try #require(state.zones.first { $0.name == "DMA32" })
        let block = try #require(zone.blocks.first { $0.order >= 1 && $0.order < 10 })
        let page = try kernel.page(block.pfn, vmemmapBase: state.vmemmapBase)
        target.close()
        // the guest is shared (GuestPool): the recorded order is put back however the test ends
        try guest.writeU64(at: page.address + UInt64(kernel.page.privateOffset), UInt64(block.order + 1))
        defer { try? guest.writeU64(at: page.address + UInt64(kernel.page.privateOffset), UInt64(block.order)) }

        let kept = LinuxGuest.repositoryRoot + "/.build/report-page"
        try FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
        let file = kept + "/linux-order-recorded.html", png = kept + "/linux-order-recorded.png"
        try? FileManager.default.removeItem(atPath: file)
        try? FileManager.default.removeItem(atPath: png)
        let start = Date()
        let (status, text) = LinuxVerifyTests.kmemscope(["report", "-o", file] + linux)
        print("report --kernel linux: \(String(format: "%.2f", Date().timeIntervalSince(start))) s: \(text)")
        #expect(status == 1, "\(text)")
        let html = try String(contentsOfFile: file, encoding: .utf8)
        let hex = "0x" + String(block.pfn, radix: 16)
        #expect(html.contains("data-check=\"order-recorded\" data-pfn=\"\(hex)\">"), "listed with its check and frame")
        let h1 = try #require(html.range(of: "<h1>")), map = try #require(html.range(of: "<canvas id=\"map\""))
        #expect(h1.lowerBound < map.lowerBound && html.contains(",\"DMA32\"]") && html.contains("pfn 0x0 · 0x0</div>"))
        #expect(!html.contains("http://") && !html.contains("https://"))

        let frames = try #require(html.range(of: #"· ([0-9]+) frames</div>"#, options: .regularExpression)
            .flatMap { UInt64(html[$0].dropFirst(2).prefix { $0.isNumber }) })
        let layout = MemoryMapLayout(frameCount: frames)
        #expect(layout.framesPerCell == 2 && layout.rows == 256, "512M: two frames a cell, 256 rows")
        try HeadlessChromium.screenshot(URL(fileURLWithPath: file).absoluteString, width: MemoryMapLayout.pageWidth,
                                        height: MemoryMapLayout.mapTop + layout.mapHeight + 40, to: png)
        // DMA32's first whole row, the block's cell and its ring
        let zoneIndex = try #require(state.zones.filter { $0.isPopulated && $0.spannedPages > 0 }.firstIndex { $0.name == "DMA32" })
        let row = (zone.startPFN + layout.framesPerRow - 1) / layout.framesPerRow * layout.framesPerRow
        let points = [layout.center(of: block.pfn), layout.ringProbe(of: block.pfn), layout.zoneBandProbe(of: row)]
        let colors = try HeadlessChromium.pixels(png, points.map { ($0.x, $0.y) })
        #expect(colors == [MemoryMapPage.CellClass.violation.color, MemoryMapLayout.ringColor,
                           MemoryMapLayout.zoneColors[zoneIndex % MemoryMapLayout.zoneColors.count]], "\(points): \(colors)")
    }
}
