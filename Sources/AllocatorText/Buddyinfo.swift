import AllocatorView

extension ProcText {
    /// /proc/buddyinfo (`frag_show_print`): per populated zone, `Node %d, zone %8s ` then
    /// `%6lu ` per order — the kernel's per-order counter where it keeps one (Linux's
    /// `nr_free`), otherwise the blocks walked. Each line ends in a newline.
    public static func buddyinfo(_ view: AllocatorView) -> String {
        view.nodes.flatMap { node in
            node.zones.filter(\.populated).map { z in
                "Node \(node.id), zone \(right(z.name, 8)) " + z.freeAreas.map { right($0.blocks, 6) + " " }.joined()
            }
        }.joined(separator: "\n") + "\n"
    }
}
