import AllocatorText
import AllocatorView
import LinuxKernel

/// The text of the views for a stock Linux guest.
enum LinuxViews {
    /// `zones --kernel linux`: one line per zone of every node, then /proc/buddyinfo, from the
    /// allocator view of the guest.
    static func zones(_ linux: LinuxKernelTarget, _ view: AllocatorView) -> String {
        var lines: [String] = []
        for node in view.nodes {
            if node.id != view.nodes.first?.id { lines.append("") }
            lines += zoneTable(linux, view, node)
        }
        lines.append("free: vm_stat[NR_FREE_PAGES]; on lists: Σ nr_free × 2^order; per-CPU: pages on the CPUs' per_cpu_pages lists")
        lines.append("")
        lines.append(ProcText.buddyinfo(view).droppingFinalNewline)
        return lines.joined(separator: "\n")
    }

    /// One node's line and zone table of ``zones(_:_:)``.
    static func zoneTable(_ linux: LinuxKernelTarget, _ view: AllocatorView, _ node: NodeView) -> [String] {
        let l = linux.layout
        var lines = ["node \(node.id): \(l.zoneCount) zones, orders 0…\(l.orderCount - 1), \(l.migratetypeCount) migratetypes ("
                     + view.migratetypeNames.joined(separator: ", ") + "), struct page \(l.pageSize) bytes"
                     + (linux.kaslrOffset != 0 ? ", KASLR offset 0x\(String(linux.kaslrOffset, radix: 16))" : "")]
        let header = ["zone", "start pfn", "spanned", "present", "managed", "free", "on lists", "per-CPU", "min", "low", "high"]
        var rows: [[String]] = [header]
        for zone in node.zones {
            let marks = zone.populated ? zone.watermarks : nil
            let pcp = zone.perCPU.reduce(UInt64(0)) { $0 &+ ($1.count?.pages ?? 0) }
            rows.append([zone.name, "0x" + String(zone.startPFN, radix: 16), "\(zone.spannedPages)", "\(zone.presentPages)",
                         "\(zone.managedPages)", zone.freePages?.description ?? "-",
                         zone.populated ? "\(zone.pagesOnLists)" : "-", zone.populated ? "\(pcp)" : "-",
                         marks.map { "\($0.min)" } ?? "-", marks.map { "\($0.low)" } ?? "-", marks.map { "\($0.high)" } ?? "-"])
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
            lines.append(row.enumerated().map { c, s in
                c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[c] - s.count) + s
            }.joined(separator: "  "))
        }
        return lines
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
        if page.isBuddy {
            let listed = state.zones.lazy.flatMap(\.blocks).first { $0.pfn == page.pfn }
            let where_ = listed.map { "on the order \($0.order) \(LinuxVerifier.name($0.migratetype, state)) free list" } ?? "on no free list of node \(state.node) (!)"
            lines.append("  free: head of an order \(page.private) buddy block (PageBuddy), \(where_)")
        } else if let block = state.zones.lazy.flatMap(\.blocks).first(where: { page.pfn > $0.pfn && page.pfn - $0.pfn < (1 << UInt64(min($0.order, 63))) }) {
            lines.append("  free: inside the order \(block.order) block at pfn 0x\(String(block.pfn, radix: 16))")
        } else if page.refcount > 0 {
            lines.append("  in use (refcount \(page.refcount))")
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
