import AllocatorView

/// `zones --tree`: zones → (segments) → orders. Each zone with its span, managed and free
/// pages; under it each segment, when the kernel has segments (its PFN range, pages, free and
/// reserved pages), else the zone's own lists; under those one line per order that has free
/// blocks: the blocks on each migratetype's list — the list's own counter where the kernel
/// keeps one (`verify` checks it against the list), otherwise the blocks walked — and the
/// pages they hold. A spare migratetype slot is shown only when it holds blocks.
public enum ZoneTreeText {
    /// Blocks per migratetype slot of one free area: the migratetypes in use, and a spare slot
    /// only when it holds blocks (it should not).
    public static func blocks(_ view: AllocatorView, _ area: FreeArea) -> [(slot: Int, blocks: UInt64)] {
        area.lists.compactMap { list in
            let n = list.counter ?? list.walked
            return list.migratetype < view.migratetypesInUse || n > 0 ? (list.migratetype, n) : nil
        }
    }

    /// The orders of `areas` that hold blocks, with their blocks per slot and pages.
    public static func orders(_ view: AllocatorView, _ areas: [FreeArea]) -> [(order: Int, blocks: [(slot: Int, blocks: UInt64)], pages: UInt64)] {
        areas.compactMap { area in
            let counts = blocks(view, area)
            let total = counts.reduce(UInt64(0)) { $0 &+ $1.blocks }
            guard total > 0 else { return nil }
            return (area.order, counts, total &* (1 << UInt64(min(max(area.order, 0), 63))))
        }
    }

    public static func text(_ view: AllocatorView) -> String {
        var lines = view.sequence.map { ["sequence \($0)"] } ?? []
        func orderLines(_ areas: [FreeArea], indent: String) {
            for o in orders(view, areas) {
                let order = o.order < 10 ? " \(o.order)" : "\(o.order)"
                lines.append(indent + "order \(order): " + o.blocks.map { "\(view.migratetypeName($0.slot)) \($0.blocks)" }.joined(separator: "  ")
                             + "  (\(o.pages) pages)")
            }
        }
        for node in view.nodes {
            for z in node.zones {
                lines.append("zone \(z.name)  pfn [\(hex(z.startPFN)), \(hex(z.endPFN)))  "
                             + "managed \(z.managedPages)  free \(z.freePages?.description ?? String(z.pagesOnLists))"
                             + (z.segmentCount.map { "  segments \($0)" } ?? ""))
                guard let segments = z.segments else {
                    orderLines(z.freeAreas, indent: "  ")
                    continue
                }
                for seg in segments {
                    lines.append("  segment \(seg.index)  pfn [\(hex(seg.startPFN)), \(hex(seg.endPFN)))  "
                                 + "pages \(seg.endPFN &- seg.startPFN)"
                                 + (seg.freePages.map { "  free \($0)" } ?? "") + (seg.reservedPages.map { "  reserved \($0)" } ?? ""))
                    orderLines(seg.freeAreas, indent: "    ")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
