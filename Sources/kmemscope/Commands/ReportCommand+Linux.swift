import AllocatorText
import ArgumentParser
import Foundation
import LinuxKernel

extension ReportCommand {
    /// `report --kernel linux`: the page drawn from the Linux guest's allocator view (zones,
    /// free lists) and `LinuxVerifier`'s findings, each with its `struct page` decoded.
    func runLinux(in context: CommandContext) throws {
        let page = try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux -> MemoryMapPage in
            let report = try LinuxVerifier.verify(linux, nodes: try LinuxAttach.allNodes(linux, in: context))
            let states = report.states.isEmpty ? [report.state] : report.states
            let view = linux.allocatorView(states)
            var decoded = 0
            let marks = report.findings.map { f -> MemoryMapPage.Mark in
                var decode: String?
                // the page with the lists of the node whose zones hold it
                let state = states.first { $0.holds(f.pfn) } ?? report.state
                if decoded < Self.linuxDecodeLimit, let p = try? linux.page(f.pfn, vmemmapBase: state.vmemmapBase) {
                    decode = LinuxViews.frame(linux, p, state)
                    decoded += 1
                }
                return MemoryMapPage.Mark(check: f.check, pfn: f.pfn, text: f.description, decode: decode)
            }
            // below the map, what the other Linux views print (each as the guest's /proc would)
            let blocks = (try? states.map { try linux.pageblockCounts($0) }) ?? []
            let withBlocks = linux.allocatorView(states, pageblocks: blocks)
            let info = (try? LinuxInfo(linux))?.text ?? "(info not read)"
            let zoneinfo = (try? linux.zoneinfoView()).map(ProcText.zoneinfo) ?? "(zoneinfo not read)"
            let slabinfo = (try? linux.decodeSlub()).map { ProcText.slabinfo(heap: $0.heapView) } ?? "(SLUB not read)"
            return MemoryMapPage.page(view, title: "kmemscope report: Linux guest", marks: marks,
                                      sections: [Coverage.linuxChecks(report, base: context.linuxRead.coverage).section,
                                                 ("/proc/buddyinfo", ProcText.buddyinfo(view)), ("Verify", LinuxViews.verify(report)),
                                                 ("info", info), ("/proc/pagetypeinfo", ProcText.pagetypeinfo(withBlocks)),
                                                 ("/proc/zoneinfo", zoneinfo), ("/proc/slabinfo", slabinfo)])
        }
        try write(MemoryMapHTML.render(page))
        print("report: \(output) (\(page.frameCount) frames, \(page.passed ? "verify passed" : "\(page.marks.count) violation(s)"))")
        if !page.passed { throw ExitCode(1) }
    }

    /// Most findings whose `struct page` is read for the decode.
    static let linuxDecodeLimit = 256
}
