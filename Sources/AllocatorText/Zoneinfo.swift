import AllocatorView

extension ProcText {
    /// /proc/zoneinfo (`zoneinfo_show_print`), the fields the view has, in Linux's layout:
    /// every zone of every node.
    public static func zoneinfo(_ view: AllocatorView) -> String {
        var out = ""
        for node in view.nodes {
            for z in node.zones {
                let free = z.freePages?.description ?? String(z.pagesOnLists)
                out += "Node \(node.id), zone \(right(z.name, 8))\n"
                out += "  pages free     \(free)\n"
                if let marks = z.watermarks {
                    out += "        boost    \(marks.boost ?? 0)\n"
                    out += "        min      \(marks.min)\n"
                    out += "        low      \(marks.low)\n"
                    out += "        high     \(marks.high)\n"
                }
                out += "        spanned  \(z.spannedPages)\n"
                out += "        present  \(z.presentPages)\n"
                out += "        managed  \(z.managedPages)\n"
                out += "        cma      0\n"
                if let reserve = z.lowmemReserve {
                    out += "        protection: (" + reserve.map(String.init).joined(separator: ", ") + ")\n"
                }
                out += "      nr_free_pages \(free)\n"
                out += "  pagesets\n"
                for pcp in z.perCPU {
                    out += "    cpu: \(pcp.cpu)\n"
                    if let count = pcp.count { out += "              count: \(count)\n" }
                    if let high = pcp.high { out += "              high:  \(high)\n" }
                    if let batch = pcp.batch { out += "              batch: \(batch)\n" }
                }
                out += "  node_unreclaimable:  0\n"
                out += "  start_pfn:           \(z.startPFN)\n"
            }
        }
        return out
    }
}
