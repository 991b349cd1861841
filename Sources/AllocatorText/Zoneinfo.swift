import AllocatorView

extension ProcText {
    /// /proc/zoneinfo (`zoneinfo_show_print`, mm/vmstat.c), the fields the view has, in Linux's
    /// layout: every zone of every node. A view with the kernel's named counters (Linux) prints
    /// them as Linux does — the node's "per-node stats" with its first populated zone, every
    /// zone counter and NUMA event, nothing past `protection` for an unpopulated zone, each
    /// CPU's `vm stats threshold` — and 6.7+'s pageset lines when the view has `high_min`.
    public static func zoneinfo(_ view: AllocatorView) -> String {
        var out = ""
        for node in view.nodes {
            let firstPopulated = node.zones.first(where: \.populated)?.index
            for z in node.zones {
                out += "Node \(node.id), zone \(right(z.name, 8))\n"
                if let stats = node.stats, z.index == firstPopulated {
                    out += "  per-node stats\n"
                    out += counterLines(stats)
                }
                zoneHeader(z, into: &out)
                // Linux: "If unpopulated, no other information is useful"
                if z.stats != nil && !z.populated { continue }
                if let stats = z.stats {
                    out += counterLines(stats) + counterLines(z.numaEvents ?? [])
                } else {
                    out += "      nr_free_pages \(z.freePages?.description ?? String(z.pagesOnLists))\n"
                }
                out += "  pagesets\n"
                for pcp in z.perCPU { pageset(pcp, into: &out) }
                out += "  node_unreclaimable:  \(node.unreclaimable == true ? 1 : 0)\n"
                out += "  start_pfn:           \(z.startPFN)\n"
            }
        }
        return out
    }

    /// "pages free" through "protection".
    private static func zoneHeader(_ z: ZoneView, into out: inout String) {
        let free = z.stats == nil ? (z.freePages?.description ?? String(z.pagesOnLists)) : String(z.freePages?.pages ?? z.pagesOnLists)
        out += "  pages free     \(free)\n"
        if let marks = z.watermarks {
            out += "        boost    \(marks.boost ?? 0)\n"
            out += "        min      \(marks.min)\n"
            out += "        low      \(marks.low)\n"
            out += "        high     \(marks.high)\n"
            if let promo = marks.promo { out += "        promo    \(promo)\n" }
        }
        out += "        spanned  \(z.spannedPages)\n"
        out += "        present  \(z.presentPages)\n"
        out += "        managed  \(z.managedPages)\n"
        out += "        cma      \(z.cmaPages ?? 0)\n"
        if let reserve = z.lowmemReserve {
            out += "        protection: (" + reserve.map { String(Int64(bitPattern: $0)) }.joined(separator: ", ") + ")\n"
        }
    }

    /// `"\n      %-12s %lu"` per counter (a negative counter prints as 0, as Linux clamps it).
    private static func counterLines(_ counts: [NamedCount]) -> String {
        counts.map { "      \(left($0.name, 12)) \($0.value.pages)\n" }.joined()
    }

    /// One CPU's pageset, as 6.1 and 6.12 print it (`count`, `high`, `batch`, then the
    /// threshold). Later kernels add `high_min`/`high_max` lines in a wider layout: not printed
    /// here (no guest of that version is measured); `--json` carries the values.
    private static func pageset(_ pcp: PerCPUCache, into out: inout String) {
        out += "    cpu: \(pcp.cpu)\n"
        if let count = pcp.count { out += "              count: \(count)\n" }
        if let high = pcp.high { out += "              high:  \(high)\n" }
        if let batch = pcp.batch { out += "              batch: \(batch)\n" }
        if let threshold = pcp.statThreshold { out += "  vm stats threshold: \(threshold)\n" }
    }
}
