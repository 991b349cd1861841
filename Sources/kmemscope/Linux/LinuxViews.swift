import AllocatorText
import AllocatorView
import LinuxKernel

/// The text of the views for a stock Linux guest.
enum LinuxViews {
    /// `zones --kernel linux`: the one zones renderer (``ZoneTableText``) with each node's
    /// heading: the geometry and struct page size only the target knows.
    static func zones(_ linux: LinuxKernelTarget, _ view: AllocatorView) -> String {
        ZoneTableText.text(view) { node in nodeHeading(linux, view, node) }
    }

    /// One node's first line in ``zones(_:_:)``.
    static func nodeHeading(_ linux: LinuxKernelTarget, _ view: AllocatorView, _ node: NodeView) -> String {
        let l = linux.layout
        return "node \(node.id): \(l.zoneCount) zones, orders 0…\(l.orderCount - 1), \(l.migratetypeCount) migratetypes ("
            + view.migratetypeNames.joined(separator: ", ") + "), struct page \(l.pageSize) bytes"
            + (linux.kaslrOffset != 0 ? ", KASLR offset 0x\(String(linux.kaslrOffset, radix: 16))" : "")
    }

    /// `frame PFN --kernel linux`: one `struct page`, decoded.
    static func frame(_ linux: LinuxKernelTarget, _ page: LinuxPage, _ state: LinuxBuddyState) -> String {
        var parts = ["pfn 0x\(String(page.pfn, radix: 16))", "struct page at 0x\(String(page.address, radix: 16))"]
        if let zone = state.zones.first(where: { $0.isPopulated && page.pfn >= $0.startPFN && page.pfn - $0.startPFN < $0.spannedPages }) {
            parts.append(state.node == 0 ? "zone \(zone.name)" : "node \(state.node) zone \(zone.name)")
        }
        var lines = [parts.joined(separator: ", ")]
        let names = page.flagNames(linux.page)
        lines.append("  flags 0x\(String(page.flags, radix: 16)) [\(names.joined(separator: " "))]"
                     + " section/node/zone bits 0x\(String(page.fieldBits(linux.page), radix: 16))")
        let types = page.pageTypes
        lines.append("  _refcount \(page.refcount)  " + (types.isEmpty ? "_mapcount \(page.mapcount)" : "page_type 0x\(String(page.pageType, radix: 16)) [\(types.joined(separator: " "))]")
                     + "  private 0x\(String(page.private, radix: 16))")
        if let head = page.compoundHeadPage { lines.append("  tail page of the compound page at 0x\(String(head, radix: 16))") }
        // what the frame is doing, as every kernel's frame view decides it (FrameStateLookup)
        let states = LinuxFrameStates(linux: linux, state: state)
        switch states.frameState(of: page) {
        case .freeHead:
            let listed = state.zones.lazy.flatMap(\.blocks).first { $0.pfn == page.pfn }
            let where_ = listed.map { "on the order \($0.order) \(LinuxVerifier.name($0.migratetype, state)) free list" } ?? "on no free list of node \(state.node) (!)"
            lines.append("  free: head of an order \(page.private) buddy block (PageBuddy), \(where_)")
        case .freeTail:
            if let block = states.freeBlock(around: page.pfn) {
                lines.append("  free: inside the order \(block.order) block at pfn 0x\(String(block.pfn, radix: 16))")
            }
        case .allocated:
            lines.append("  in use (refcount \(page.refcount))")
        case .perCPU, .reserved, .other:
            break
        }
        return lines.joined(separator: "\n")
    }

    /// `verify --kernel linux`: a summary line per zone, then each finding.
    static func verify(_ report: LinuxVerifier.Report) -> String {
        var lines: [String] = []
        for state in report.states.isEmpty ? [report.state] : report.states {
            for zone in state.zones where zone.isPopulated {
                let label = LinuxVerifier.zoneLabel(zone.name, node: state.node)
                let n = report.findings.filter { $0.zone == label }.count
                let pcp = report.perCPU[label]?.count ?? 0
                lines.append("zone \(label.padding(toLength: max(8, label.count), withPad: " ", startingAt: 0)) \(zone.blocks.count) free blocks, \(pcp) CPUs' per-CPU lists: "
                             + (n == 0 ? "clean" : "\(n) violation\(n == 1 ? "" : "s")"))
            }
        }
        let fired = LinuxVerifier.checks.filter { !report.findings(of: $0.name).isEmpty }
        lines.append("verify (linux): \(LinuxVerifier.checks.count) checks over \(report.blocks) free blocks"
                     + (report.slabs.map { " and \($0) slabs" } ?? " (SLUB not checked)") + ": "
                     + (report.passed ? "all passed" : "\(report.findings.count) violation(s) in \(fired.map(\.name).joined(separator: ", "))"))
        for note in report.notes { lines.append("  note: \(note)") }
        for f in report.findings.prefix(50) { lines.append("  \(f)") }
        if report.findings.count > 50 { lines.append("  … \(report.findings.count - 50) more") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Without its last newline: a view's text ends in one, `print` adds one.
    var droppingFinalNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
