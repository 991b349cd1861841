import AllocatorView

/// The buddy-generic rules (``BuddyRule``) run over a kernel-neutral ``AllocatorView``,
/// written once for every kernel. A zone's lists are checked where the kernel keeps them: per
/// segment when the zone has segments (the bundled kernel), else the zone's own (Linux).
/// Rules that need what a producer left `nil` (a counter it does not keep, PFNs it did not
/// record, per-CPU lists it did not walk) do not run on that part.
public enum BuddyChecks {
    /// Every rule on every populated zone of every node, in node, zone, scope order.
    public static func run(_ view: AllocatorView) -> [BuddyFinding] {
        view.nodes.flatMap { node in
            node.zones.filter(\.populated).flatMap { check($0, node: node.id, in: view) }
        }
    }

    /// Every rule on one zone of node `node`: per scope its list breaks, counters and blocks,
    /// then the zone's per-CPU caches.
    public static func check(_ zone: ZoneView, node: Int, in view: AllocatorView) -> [BuddyFinding] {
        var findings: [BuddyFinding] = []
        func scope(segment: Int?, start: UInt64, pages: UInt64, areas: [FreeArea]) {
            var found: [BuddyFinding] = view.listBreaks
                .filter { $0.node == node && $0.zone == zone.index && $0.segment == segment }
                .map { BuddyFinding(.listLinks, pfn: nil, .listBroken($0)) }
            found += areas.compactMap(CounterRules.check)
            let slots = areas.map(\.lists.count).max() ?? 0
            for mt in 0..<slots {
                for area in areas where mt < area.lists.count {
                    if let f = CounterRules.check(area.lists[mt], order: area.order) { found.append(f) }
                }
            }
            if areas.allSatisfy({ $0.lists.allSatisfy { $0.blockPFNs != nil } }) {
                let blocks = areas.flatMap { area in
                    area.lists.flatMap { list in
                        (list.blockPFNs ?? []).map { ListedBlock(pfn: $0, order: area.order, migratetype: list.migratetype) }
                    }
                }
                found += BlockRules.check(blocks, start: start, pages: pages, orderCount: view.orderCount,
                                          restriction: view.mergeRestriction)
            }
            findings += found.map { var f = $0; f.node = node; f.zone = zone.index; f.segment = segment; return f }
        }
        if let segments = zone.segments {
            for s in segments {
                scope(segment: s.index, start: s.startPFN, pages: s.endPFN >= s.startPFN ? s.endPFN - s.startPFN : 0,
                      areas: s.freeAreas)
            }
        } else {
            scope(segment: nil, start: zone.startPFN, pages: zone.spannedPages, areas: zone.freeAreas)
        }
        for cache in zone.perCPU {
            if var f = CounterRules.check(cache) { f.node = node; f.zone = zone.index; findings.append(f) }
        }
        return findings
    }
}

extension BuddyChecks {
    /// The rules on one walked list of `order`: each of its breaks (`list-links`, as given,
    /// in order), then its counter (`list-counter`). For a verifier that walks a list itself
    /// and reports between lists (the bundled kernel's, whose walk also reads each node's
    /// record); ``check(_:node:in:)`` runs the same rules on a whole view.
    public static func check(_ list: FreeList, order: Int, breaks: [ListBreak]) -> [BuddyFinding] {
        breaks.map { BuddyFinding(.listLinks, zone: $0.zone, segment: $0.segment, pfn: nil, .listBroken($0)) }
            + [CounterRules.check(list, order: order)].compactMap { $0 }
    }
}
