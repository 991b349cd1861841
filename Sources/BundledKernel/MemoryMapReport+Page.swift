import BundledChecks
import BundledState
import AllocatorText
import AllocatorView

extension MemoryMapReport {
    /// Most violations given a frame decode on the page (each decode is a few lines).
    public static let decodeLimit = 256

    /// The page for a snapshot and its verify report. `flagNames` are the kernel's published
    /// flag names; `log` the operation-log entries known by sequence (the decode names the
    /// operation that last changed a frame when it is there); `postMortem` for a kernel halted
    /// at its own BUG (its banner on top, each violation marked with where it lies, the
    /// kernel's caught violation listed on the BUG's frame).
    public static func page(_ s: KernelSnapshot, report: VerifyReport, title: String, flagNames: [(String, UInt32)] = [],
                            log: [UInt64: OpLogRecord] = [:], postMortem: PostMortem? = nil) -> MemoryMapPage {
        let violations = Set(report.violations.compactMap(\.pfn))
        let frames = frameClasses(s, violations: violations)
        let g = grid(s)
        var marks: [MemoryMapPage.Mark] = []
        var decoded = 0
        func decode(_ pfn: UInt64?) -> String? {
            guard let pfn, decoded < decodeLimit, let r = FrameReport(s, pfn: pfn) else { return nil }
            decoded += 1
            return r.text(flagNames: flagNames, lastOperation: log[r.record.lastSeq]) + lists(s, pfn: pfn, block: r.block)
        }
        if let postMortem {
            marks.append(.init(check: "kernel-bug", pfn: postMortem.bug.pfn, text: postMortem.caughtLine,
                               note: postMortem.bug.pfn.map { _ in PostMortem.Attribution.bugFrame.rawValue }, decode: decode(postMortem.bug.pfn)))
        }
        for v in report.violations {
            var span: MemoryMapPage.Band?
            if v.pfn == nil {
                if let i = v.segment, let seg = s.segments.first(where: { $0.index == i }) {
                    span = .init(name: "segment \(i)", start: seg.startPFN, end: seg.endPFN)
                } else if let name = v.zone, let z = s.zones.first(where: { $0.name == name }), z.endPFN > z.startPFN {
                    span = .init(name: "zone \(name)", start: z.startPFN, end: z.endPFN)
                }
            }
            marks.append(.init(check: v.check.rawValue, pfn: v.pfn, text: v.text,
                               note: postMortem.map { $0.attribution(of: v).rawValue }, decode: decode(v.pfn), span: span))
        }
        let failing = report.failedChecks.map(\.rawValue) + (postMortem != nil ? ["kernel-bug"] : [])
        let total = report.total + (postMortem != nil ? 1 : 0)
        let verdict = total == 0 ? "verify: all checks passed (\(report.framesChecked) frames)"
            : "verify: \(total) violation(s) in \(failing.joined(separator: ", ")) — ringed on the map, listed on the right"
        var banner: [String] = []
        if let postMortem { banner = ["POST-MORTEM: " + postMortem.header[0]] + postMortem.header.dropFirst().prefix(4) }
        let view = s.allocatorView(FreeListCensus(s))
        return MemoryMapPage(
            title: title, verdict: verdict, passed: total == 0, banner: banner,
            frameCount: UInt64(s.frames.count), pageSize: s.pageSize, framesPerCell: g.framesPerCell,
            cells: cellClasses(frames, grid: g),
            zones: view.zones.filter { $0.endPFN > $0.startPFN }.map { .init(name: $0.name, start: $0.startPFN, end: $0.endPFN) },
            segments: s.segments.map { .init(name: "\($0.index)", start: $0.startPFN, end: $0.endPFN) },
            runs: MemoryMapPage.runs(frames), marks: marks,
            unlisted: max(0, report.total - report.violations.count),
            sections: [("Zones", ZoneTableText.text(view)), ("/proc/buddyinfo", ProcText.buddyinfo(view)),
                       ("Verify", VerifySummary.text(s, report) + "\n" + report.text)])
    }

    /// The page as HTML (``MemoryMapHTML``).
    public static func html(_ s: KernelSnapshot, report: VerifyReport, title: String, flagNames: [(String, UInt32)] = [],
                            log: [UInt64: OpLogRecord] = [:], postMortem: PostMortem? = nil) -> String {
        MemoryMapHTML.render(page(s, report: report, title: title, flagNames: flagNames, log: log, postMortem: postMortem))
    }

    /// Which lists the frame's block is on: its segment's free list (by the free flag and the
    /// head's order) or the per-CPU list.
    static func lists(_ s: KernelSnapshot, pfn: UInt64, block: (head: UInt64, order: Int)?) -> String {
        guard let m = s.frames[pfn] else { return "" }
        let head = block.flatMap { s.frames[$0.head] } ?? m
        if m.flags & s.flags.pcp != 0 { return "\n  lists: the per-CPU list (migratetype \(MigratetypeName.of(Int(m.migratetype))))" }
        if head.flags & s.flags.free != 0 {
            return "\n  lists: expected on segment \(m.segment)'s order-\(head.order) \(MigratetypeName.of(Int(head.migratetype))) free list"
                + " (head 0x\(String(block?.head ?? pfn, radix: 16)))"
        }
        return "\n  lists: none (not free)"
    }
}
