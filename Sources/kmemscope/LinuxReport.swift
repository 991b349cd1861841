import AllocatorText
import Foundation
import LinuxKernel

/// `report --kernel linux -o FILE.html`: one self-contained page of a Linux guest — what `info`
/// says, zoneinfo of every node, buddyinfo and pagetypeinfo, SLUB's slabinfo, the verify result,
/// and a map of each node-0 zone's pageblocks shaded by how much of each is on the free lists
/// (red where verify names a page). Nothing is loaded from the network.
enum LinuxReport {
    /// The page and the verdict.
    static func html(_ linux: LinuxKernelTarget) throws -> (String, LinuxVerifier.Report) {
        let info = try LinuxInfo(linux)
        let state = try linux.decodeBuddy()
        var blocks: [String: [Int]] = [:]
        blocks = (try? linux.pageblockCounts(state)) ?? [:]
        let view = linux.allocatorView(state, pageblocks: blocks)
        let zoneinfo = (try? linux.zoneinfoView()).map(ProcText.zoneinfo) ?? "(zoneinfo not read)"
        let slabinfo = (try? linux.decodeSlub())?.slabinfo ?? "(SLUB not read)"
        let report = try LinuxVerifier.verify(linux)
        let bad = Set(report.findings.map { $0.pfn >> 9 })
        var cells = ""
        for zone in state.zones where zone.isPopulated {
            // free pages per pageblock (2^9 pages), from the blocks walked on the free lists
            var free: [UInt64: UInt64] = [:]
            for b in zone.blocks {
                let pages = UInt64(1) << UInt64(min(max(b.order, 0), 20))
                var pfn = b.pfn
                while pfn < b.pfn &+ pages { free[pfn >> 9, default: 0] += min(512 - pfn % 512, b.pfn &+ pages - pfn); pfn = (pfn | 511) &+ 1 }
            }
            let first = zone.startPFN >> 9, last = (zone.startPFN &+ zone.spannedPages &- 1) >> 9
            cells += "<h3>zone \(escape(zone.name)): pageblocks \(first)…\(last)</h3><div class=\"map\">"
            for block in first...max(first, min(last, first + 1 << 16)) {
                let f = free[block] ?? 0
                let colour = bad.contains(block) ? "#d00" : "hsl(210,60%,\(95 - Int(f * 60 / 512))%)"
                cells += "<i style=\"background:\(colour)\" title=\"pfn 0x\(String(block << 9, radix: 16)): \(f) of 512 pages free\"></i>"
            }
            cells += "</div>"
        }
        let page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>kmemscope report: \(escape(info.banner))</title>
            <style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;overflow:auto}
            .map{display:flex;flex-wrap:wrap;max-width:64em}.map i{width:10px;height:10px;margin:1px;display:block}</style></head>
            <body><h1>kmemscope report (Linux)</h1>
            <pre>\(escape(info.text))</pre>
            <h2>verify</h2><pre>\(escape(LinuxViews.verify(report)))</pre>
            <h2>free pages per pageblock (darker: more free; red: a page verify names)</h2>\(cells)
            <h2>buddyinfo</h2><pre>\(escape(ProcText.buddyinfo(view)))</pre>
            <h2>pagetypeinfo</h2><pre>\(escape(ProcText.pagetypeinfo(view)))</pre>
            <h2>zoneinfo</h2><pre>\(escape(zoneinfo))</pre>
            <h2>slabinfo</h2><pre>\(escape(slabinfo))</pre>
            </body></html>

            """
        return (page, report)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
