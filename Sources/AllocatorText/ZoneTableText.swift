import AllocatorView

/// `zones`: the guest's zones, then /proc/buddyinfo, from the allocator view — one renderer
/// for every kernel. A kernel that keeps its own count of each page state per zone (the
/// bundled kernel: boot-reserved, reserved, allocated) gets one line per zone as its boot
/// report prints it, and the broken lists under buddyinfo; a kernel that keeps only the free
/// counter (Linux) gets a column table per node under its heading, and the columns' legend.
public enum ZoneTableText {
    /// The whole view. `heading` gives each node's first line in the table form (the kernel's
    /// geometry, which the view does not hold); the line form has none.
    public static func text(_ view: AllocatorView, heading: (NodeView) -> String = { "node \($0.id)" }) -> String {
        let zones = view.zones
        if zones.allSatisfy({ $0.bootReservedPages != nil && $0.reservedPages != nil && $0.allocatedPages != nil }) {
            return lines(view)
        }
        var lines: [String] = []
        for node in view.nodes {
            if node.id != view.nodes.first?.id { lines.append("") }
            lines.append(heading(node))
            lines += table(node)
        }
        lines.append("free: vm_stat[NR_FREE_PAGES]; on lists: Σ nr_free × 2^order; per-CPU: pages on the CPUs' per_cpu_pages lists")
        lines.append("")
        lines.append(ProcText.buddyinfo(view).droppingFinalNewline)
        return lines.joined(separator: "\n")
    }

    /// The line form: the sequence, one line per zone with the kernel's own counts, buddyinfo,
    /// then each broken free list by name (never a count larger than the zone: a broken list's
    /// count is what was walked).
    public static func lines(_ view: AllocatorView) -> String {
        var lines = view.sequence.map { ["sequence \($0)"] } ?? []
        for z in view.zones {
            let name = z.name + String(repeating: " ", count: max(1, 7 - z.name.count))
            let pcp = z.perCPU.reduce(UInt64(0)) { $0 &+ ($1.count?.pages ?? 0) }
            let marks = z.watermarks
            lines.append("zone \(name)pfn [0x\(String(z.startPFN, radix: 16)), 0x\(String(z.endPFN, radix: 16))) "
                + "spanned \(z.spannedPages) present \(z.presentPages) managed \(z.managedPages) "
                + "boot-reserved \(z.bootReservedPages ?? 0) reserved \(z.reservedPages ?? 0) free \(z.freePages?.description ?? "-") "
                + "pcp \(pcp) allocated \(z.allocatedPages ?? 0) min \(marks.map { "\($0.min)" } ?? "-") low \(marks.map { "\($0.low)" } ?? "-") "
                + "high \(marks.map { "\($0.high)" } ?? "-") segments \(z.segmentCount.map { "\($0)" } ?? "-")")
        }
        lines.append(ProcText.buddyinfo(view).droppingFinalNewline)
        for b in view.listBreaks { lines.append("broken free list: " + b.text) }
        return lines.joined(separator: "\n")
    }

    /// The table form of one node: a row per zone (span, the kernel's page counts, free pages
    /// by its counter, on the lists and on the per-CPU lists, watermarks); `-` for what an
    /// unpopulated zone does not have.
    public static func table(_ node: NodeView) -> [String] {
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
        return rows.map { row in
            row.enumerated().map { c, s in
                c == 0 ? padded(s, to: widths[c]) : String(repeating: " ", count: widths[c] - s.count) + s
            }.joined(separator: "  ")
        }
    }

    /// `s` padded with spaces, or cut, to `width` UTF-16 units, as Foundation's
    /// `padding(toLength:withPad:startingAt:)` (which the table used) does.
    static func padded(_ s: String, to width: Int) -> String {
        let units = s.utf16.count
        if units <= width { return s + String(repeating: " ", count: width - units) }
        return String(s.utf16.prefix(width)) ?? String(s.prefix(width))
    }
}

extension String {
    /// The string without one trailing newline.
    var droppingFinalNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
