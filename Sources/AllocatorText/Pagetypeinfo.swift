import AllocatorView

extension ProcText {
    /// /proc/pagetypeinfo (`pagetypeinfo_show`): the pageblock order, the blocks walked on
    /// each migratetype's list per populated zone and order (capped at the view's
    /// ``AllocatorView/procListCountLimit``), and — when the view has pageblock counts — the
    /// pageblocks per migratetype. Each line ends in a newline.
    /// Linux prints the whole of it once per node with memory, node after node (the seq_file
    /// walks `pgdat`s): so does a view of several nodes.
    public static func pagetypeinfo(_ view: AllocatorView) -> String {
        guard view.nodes.count > 1 else { return pagetypeinfoOfOneNode(view) }
        return view.nodes.filter { $0.zones.contains(where: \.populated) }.map { node in
            var one = view
            one.nodes = [node]
            return pagetypeinfoOfOneNode(one)
        }.joined()
    }

    static func pagetypeinfoOfOneNode(_ view: AllocatorView) -> String {
        var out = ""
        if let order = view.pageblockOrder {
            out += "Page block order: \(order)\nPages per block:  \(1 << order)\n\n"
        }
        out += left("Free pages count per migrate type at order", 43) + " "
            + (0..<view.orderCount).map { right($0, 6) + " " }.joined() + "\n"
        let types = 0..<view.migratetypesInUse
        for node in view.nodes {
            for z in node.zones where z.populated {
                for mt in types {
                    out += "Node \(right(node.id, 4)), zone \(right(z.name, 8)), type \(right(view.migratetypeName(mt), 12)) "
                    out += z.freeAreas.map { area in
                        let walked = mt < area.lists.count ? area.lists[mt].walked : 0
                        return right(view.procListCountLimit.map { min(walked, UInt64($0)) } ?? walked, 6) + " "
                    }.joined() + "\n"
                }
            }
        }
        guard view.zones.contains(where: { $0.pageblocks != nil }) else { return out }
        let zonesWithBlocks = view.nodes.flatMap { node in node.zones.filter { $0.populated && $0.pageblocks != nil }.map { (node.id, $0) } }
        out += "\n" + left("Number of blocks type ", 23) + types.map { right(view.migratetypeName($0), 12) + " " }.joined() + "\n"
        for (node, z) in zonesWithBlocks {
            let blocks = z.pageblocks ?? []
            out += "Node \(node), zone \(right(z.name, 8)) " + types.map { right($0 < blocks.count ? blocks[$0] : 0, 12) + " " }.joined() + "\n"
        }
        return out
    }
}
