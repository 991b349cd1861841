import AllocatorText
import BrowserSupport
import Foundation
import Testing

/// `kmemscope report`'s page on a real guest with a fault injected (issue 23, "the report's
/// picture"): the HTML's order and contents (title and verdict before the map, the axis, every
/// violation verify names listed with its check and frame), and the page as headless Chromium
/// draws it — pixels read back at the violation's cell and ring, at the zone and segment bands
/// and in a hole, and the ring's colour when the violation is selected (`#select=0`). The pages and
/// screenshots are kept in `.build/report-page/` to look at.
@Suite("report page", .enabled(if: HeadlessChromium.path != nil, "chromium is not installed (scripts/install-deps.sh)"))
struct ReportPageTests {
    static let kept = DebugBoot.root.appendingPathComponent(".build/report-page").path

    /// A fault the kernel injects silently: the guest runs to the end and verify finds it.
    @Test func violationRingedListedAndBanded() throws {
        // late in the run: a flipped allocation bit is rewritten when its block is next allocated
        // (with the image ending at 4 MiB, a flip at 3000…15000 was healed before the end)
        let boot = try DebugBoot(memory: "128M", append: "seed=1 ops=20000 phases=2 fault=alloc-bitmap-flip@19000")
        defer { boot.stop() }
        try boot.runUntil(["kmem: done"])
        let target = ["--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel]
        let page = boot.directory + "/report.html"
        let r = try InfoCommandTests.kmemscope(["report", "-o", page] + target)
        #expect(r.status == 1, "a violation: exit 1\n\(r.out)\n\(r.err)")
        let html = try String(contentsOfFile: page, encoding: .utf8)

        // what verify says, independently: every violation with a frame is on the page
        let v = try InfoCommandTests.kmemscope(["verify", "--json"] + target)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(v.out.utf8)) as? [String: Any], "\(v.out)")
        let violations = try #require(doc["violations"] as? [[String: Any]], "\(v.out)")
        let framed = violations.compactMap { v -> (String, UInt64)? in
            guard let check = v["check"] as? String, let pfn = (v["pfn"] as? String).flatMap({ UInt64($0.dropFirst(2), radix: 16) }) else { return nil }
            return (check, pfn)
        }
        try #require(!framed.isEmpty, "verify names a frame: \(v.out)")
        try Self.checkStructure(html, framed: framed)
        // what the verdict covered, as verify says it, and what report does not read
        #expect(html.contains("<h2>What the verdict covered</h2>") && html.contains("covered: ") && html.contains(" frames in ")
                && html.contains("not covered: replay of the operation log"), "the coverage section")

        let zonesDoc = try InfoCommandTests.kmemscope(["zones", "--json"] + target)
        let zones = try #require((try JSONSerialization.jsonObject(with: Data(zonesDoc.out.utf8)) as? [String: Any])?["zones"] as? [[String: Any]])
        let spans = zones.compactMap { z -> (String, UInt64, UInt64)? in
            guard let n = z["name"] as? String, let s = Self.hex(z["startPFN"]), let e = Self.hex(z["endPFN"]), e > s else { return nil }
            return (n, s, e)
        }
        let png = try Self.screenshot(page, name: "alloc-bitmap-flip")
        let layout = MemoryMapLayout(frameCount: 32768)
        var probes: [(String, (x: Int, y: Int), String)] = []
        for (check, pfn) in framed.prefix(4) {
            probes.append(("\(check) pfn 0x\(String(pfn, radix: 16)): its cell", layout.center(of: pfn), MemoryMapPage.CellClass.violation.color))
            probes.append(("\(check) pfn 0x\(String(pfn, radix: 16)): its ring", layout.ringProbe(of: pfn), MemoryMapLayout.ringColor))
        }
        // each zone's band at its first whole row, in the zone's colour
        for (i, z) in spans.enumerated() {
            let row = (z.1 + layout.framesPerRow - 1) / layout.framesPerRow * layout.framesPerRow
            guard row + layout.framesPerRow <= z.2 else { continue }
            probes.append(("zone \(z.0) band at pfn 0x\(String(row, radix: 16))", layout.zoneBandProbe(of: row),
                           MemoryMapLayout.zoneColors[i % MemoryMapLayout.zoneColors.count]))
        }
        #expect(probes.count >= framed.prefix(4).count * 2 + 1, "at least one zone has a whole row")
        // the segment band: segment colours where the page's segments are, "outside" in a hole
        let segments = Self.bands(html, "segments")
        for (i, s) in segments.enumerated() {
            let row = (s.1 + layout.framesPerRow - 1) / layout.framesPerRow * layout.framesPerRow
            guard row + layout.framesPerRow <= s.2 else { continue }
            probes.append(("segment \(s.0) band", layout.segmentBandProbe(of: row), MemoryMapLayout.segmentColors[i % MemoryMapLayout.segmentColors.count]))
        }
        // a hole (the 640K–1M ISA hole is one at 128M) is drawn as a hole
        let hole = try #require(Self.runs(html).first { $0.2 == "hole (no RAM)" && $0.1 - $0.0 >= 8 }, "a hole is listed")
        probes.append(("hole pfn [0x\(String(hole.0, radix: 16)), 0x\(String(hole.1, radix: 16)))", layout.center(of: (hole.0 + hole.1) / 2),
                       MemoryMapPage.CellClass.hole.color))
        let colors = try Self.pixels(png, probes.map(\.1))
        for (probe, color) in zip(probes, colors) { #expect(color == probe.2, "\(probe.0) at \(probe.1): \(color), not \(probe.2)") }

        // selected (`#select=0`, as a click does): the ring turns the selection colour, the decode shows
        let first = framed[0].1
        let selected = try Self.screenshot(page, name: "alloc-bitmap-flip-selected", fragment: "#select=0")
        let ring = try Self.pixels(selected, [layout.origin(of: first)].map { ($0.x - MemoryMapLayout.ringGap - 2 + 1, $0.y + 2) })
        #expect(ring == [MemoryMapLayout.selectedRingColor], "selected ring: \(ring)")
        let dom = try Self.dumpDOM(page + "#select=0")
        #expect(dom.contains("class=\"v sel\""), "the list entry is highlighted")
        let decode = try #require(dom.range(of: "<pre id=\"decode\">").map { String(dom[$0.upperBound...].prefix(2000)) })
        #expect(decode.contains("flags 0x") && decode.contains("lists:") && decode.contains("pfn 0x\(String(first, radix: 16))")
                && (decode.contains("last changed by") || decode.contains("not changed since boot")), "decode: \(decode)")

        // a click beside the ring (`#pfn=` the next frame: the map's click path) selects the same
        // violation; a click far from every ring shows what that cell holds
        let near = try Self.dumpDOM(page + "#pfn=0x" + String(first + 1, radix: 16))
        #expect(near.contains("class=\"v sel\" id=\"v0\"") || near.contains("id=\"v0\" class=\"v sel\""), "near click selects v0")
        try #require(framed.allSatisfy { $0.1 > 0x400 }, "no violation near pfn 0")
        let far = try Self.dumpDOM(page + "#pfn=0x0")
        #expect(far.contains("<pre id=\"decode\">pfn 0x0 (phys 0x0) · zone DMA") && !far.contains("v sel"),
                "far click: \(far.range(of: "<pre id=\"decode\">").map { String(far[$0.lowerBound...].prefix(200)) } ?? "")")
    }

    /// A kernel halted at its own BUG: the post-mortem banner on top, the kernel's own caught
    /// violation listed and ringed on the BUG's frame.
    @Test func postMortemBanner() throws {
        let boot = try DebugBoot(memory: "128M", append: "seed=1 ops=20000 phases=2 fault=double-free@3000")
        defer { boot.stop() }
        try boot.runUntil(["kmem: BUG:"])
        let page = boot.directory + "/report.html"
        let r = try InfoCommandTests.kmemscope(["report", "-o", page, "--target", "unix:" + boot.socket, "--elf", DebugBoot.kernel])
        #expect(r.status == 1 && r.out.contains("post-mortem"), "\(r.out)\n\(r.err)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let banner = try #require(html.range(of: "<div id=\"banner\">"), "a banner")
        let map = try #require(html.range(of: "<canvas id=\"map\""))
        #expect(banner.lowerBound < map.lowerBound)
        #expect(html[banner.upperBound...].prefix(40).hasPrefix("POST-MORTEM: "), "\(html[banner.upperBound...].prefix(600))")
        #expect(html[banner.upperBound...].prefix(600).contains("BUG"), "the banner names the BUG")
        #expect(html.contains("data-check=\"kernel-bug\""), "the kernel's caught violation is listed")
        let png = try Self.screenshot(page, name: "double-free-post-mortem")
        // a violation of no one frame (a list or counter of a segment) is listed with its segment's
        // span and barred beside the map along those rows (at a row where no frame's ring reaches)
        let layout = MemoryMapLayout(frameCount: 32768)
        let spanned = html.components(separatedBy: "data-pfn=\"\"><b>").dropFirst().compactMap { item -> (UInt64, UInt64)? in
            guard let r = item.range(of: #"pfn \[0x[0-9a-f]+, 0x[0-9a-f]+\)"#, options: .regularExpression) else { return nil }
            let parts = item[r].dropFirst(5).dropLast().components(separatedBy: ", ")
            guard let s = UInt64(parts[0].dropFirst(2), radix: 16), let e = UInt64(parts[1].dropFirst(2), radix: 16) else { return nil }
            return (s, e)
        }
        let span = try #require(spanned.first, "a violation of no one frame is listed with its span")
        let ringed = html.components(separatedBy: "data-pfn=\"0x").dropFirst().compactMap { UInt64($0.prefix { $0.isHexDigit }, radix: 16) }
        let rowPFN = try #require(stride(from: span.0 / layout.framesPerRow + 1, to: span.1 / layout.framesPerRow, by: 1).map { $0 * layout.framesPerRow }
            .first { row in ringed.allSatisfy { p in p / layout.framesPerRow + 3 < row / layout.framesPerRow || p / layout.framesPerRow > row / layout.framesPerRow + 3 } })
        #expect(try Self.pixels(png, [layout.bracketProbe(of: rowPFN)]) == [MemoryMapLayout.ringColor], "bar at pfn 0x\(String(rowPFN, radix: 16))")
        // the BUG's frame is ringed when it names one
        if let item = html.range(of: "data-check=\"kernel-bug\" data-pfn=\"0x"), let pfn = UInt64(html[item.upperBound...].prefix { $0.isHexDigit }, radix: 16) {
            #expect(try Self.pixels(png, [layout.ringProbe(of: pfn)]) == [MemoryMapLayout.ringColor])
        }
    }

    /// Title and verdict before the map, an axis label every few rows with PFN and physical
    /// address, every violation listed with its check and PFN, nothing from the network.
    static func checkStructure(_ html: String, framed: [(String, UInt64)]) throws {
        let h1 = try #require(html.range(of: "<h1>")), verdict = try #require(html.range(of: "<p id=\"verdict\" class=\"bad\">"))
        let map = try #require(html.range(of: "<canvas id=\"map\""))
        #expect(h1.lowerBound < verdict.lowerBound && verdict.lowerBound < map.lowerBound, "title, verdict, then the map")
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains(" src="), "self-contained")
        for (pfn, phys) in [("0x0", "0x0"), ("0x800", "0x800000"), ("0x1000", "0x1000000")] {
            #expect(html.contains("data-pfn=\"\(pfn)\" style=\"top:") && html.contains("pfn \(pfn) · \(phys)</div>"), "axis label at pfn \(pfn)")
        }
        for (check, pfn) in framed {
            #expect(html.contains("data-check=\"\(check)\" data-pfn=\"0x\(String(pfn, radix: 16))\">"), "listed: \(check) pfn 0x\(String(pfn, radix: 16))")
        }
        #expect(html.contains("[\"DMA32\"") == false && html.contains(",\"DMA32\"]"), "zone bands carry their names")
    }

    static func hex(_ any: Any?) -> UInt64? { (any as? String).flatMap { UInt64($0.dropFirst(2), radix: 16) } }

    /// `const NAME = [[start,end,"name"],…]` from the page's script.
    static func bands(_ html: String, _ name: String) -> [(String, UInt64, UInt64)] {
        guard let r = html.range(of: "\(name) = [") else { return [] }
        let body = html[r.upperBound...].prefix { $0 != ";" }
        return body.components(separatedBy: "[").compactMap { part in
            let f = part.split(separator: ",")
            guard f.count >= 3, let s = UInt64(f[0]), let e = UInt64(f[1]) else { return nil }
            return (f[2].filter { $0 != "\"" && $0 != "]" }, s, e)
        }
    }

    /// The holes and reserved ranges table: (start, end, label).
    static func runs(_ html: String) -> [(UInt64, UInt64, String)] {
        html.components(separatedBy: "<td>pfn [").dropFirst().compactMap { row in
            let parts = row.components(separatedBy: "</td>")
            let span = parts[0].dropLast().components(separatedBy: ", ")
            guard span.count == 2, let s = UInt64(span[0].dropFirst(2), radix: 16), let e = UInt64(span[1].dropFirst(2), radix: 16), parts.count > 2 else { return nil }
            return (s, e, parts[2].replacingOccurrences(of: "<td>", with: ""))
        }
    }

    /// Headless Chromium's screenshot of the page (kept in ``kept``).
    static func screenshot(_ page: String, name: String, fragment: String = "") throws -> String {
        try FileManager.default.createDirectory(atPath: kept, withIntermediateDirectories: true)
        let png = kept + "/\(name).png"
        try? FileManager.default.removeItem(atPath: kept + "/\(name).html")
        try FileManager.default.copyItem(atPath: page, toPath: kept + "/\(name).html")
        try HeadlessChromium.screenshot(URL(fileURLWithPath: page).absoluteString + fragment, width: MemoryMapLayout.pageWidth, height: 800, to: png)
        return png
    }

    static func dumpDOM(_ url: String) throws -> String { try HeadlessChromium.dumpDOM("file://" + url) }

    static func pixels(_ png: String, _ points: [(x: Int, y: Int)]) throws -> [String] { try HeadlessChromium.pixels(png, points) }
}
