import ArgumentParser
import LinuxKernel
import AllocatorView

/// `freelist ZONE ORDER [MIGRATETYPE] --kernel linux [--node N]`: the node's `free_area[ORDER].free_list[mt]`
/// walked (bounded by `nr_free` + 1, as every Linux walk), each list's blocks in list order and
/// where a walk broke. Exit 1 when a list broke, as on the bundled kernel.
struct LinuxFreelist {
    var zone: String
    var order: Int
    var migratetype: String?
    var json: Bool

    /// `--json` (schema version 1): each list, its blocks as hex PFNs in list order.
    struct Document: Encodable {
        struct List: Encodable {
            var migratetype: String
            var walked: Int
            var blocks: [String]
            var broken: String?
        }
        var schemaVersion = 1
        var kernel = "linux"
        var node: Int
        var zone: String
        var order: Int
        /// `free_area[order].nr_free`: the blocks of this order on all the zone's lists.
        var nrFree: UInt64
        var broken: Bool
        var lists: [List]
    }

    /// The text (or JSON) and whether a list broke.
    func render(_ state: LinuxBuddyState) throws -> (String, Bool) {
        guard let z = state.zones.first(where: { $0.name.lowercased() == zone.lowercased() || String($0.index) == zone }) else {
            throw ValidationError("no zone \(zone): the guest's node \(state.node) has \(state.zones.map(\.name).joined(separator: ", "))")
        }
        guard order >= 0, order < z.nrFree.count else { throw ValidationError("order must be 0…\(max(z.nrFree.count - 1, 0)) on this kernel") }
        let names = state.migratetypeNames
        var slots = Array(0..<z.walked.count)
        if let mt = migratetype {
            guard let slot = names.map({ $0.lowercased() }).firstIndex(of: mt.lowercased()) ?? Int(mt), slot >= 0, slot < z.walked.count else {
                throw ValidationError("no migratetype \(mt): \(names.joined(separator: ", ")) or a slot 0…\(z.walked.count - 1)")
            }
            slots = [slot]
        }
        var lists: [Document.List] = []
        var lines: [String] = []
        for mt in slots {
            let name = mt < names.count ? names[mt] : "MT\(mt)"
            let blocks = z.blocks.filter { $0.order == order && $0.migratetype == mt }.map(\.pfn)
            let broken = (z.issues + z.cutShort).first { $0.order == order && $0.migratetype == mt }?.problem
            lists.append(Document.List(migratetype: name, walked: blocks.count, blocks: blocks.map(hex), broken: broken))
            lines.append((state.node == 0 ? "" : "node \(state.node) ") + "zone \(z.name) \(name) order \(order): \(blocks.count) blocks")
            for chunk in stride(from: 0, to: blocks.count, by: 8) {
                lines.append("  " + blocks[chunk..<min(chunk + 8, blocks.count)].map(hex).joined(separator: " "))
            }
            if let broken { lines.append("  -> broken: \(broken)") }
        }
        let nrFree = z.nrFree[order]
        let anyBroken = lists.contains { $0.broken != nil }
        if json {
            return (try JSONOutput.string(Document(node: state.node, zone: z.name, order: order, nrFree: nrFree, broken: anyBroken, lists: lists)), anyBroken)
        }
        lines.append("nr_free \(nrFree): the blocks of order \(order) on all of zone \(z.name)'s lists")
        return (lines.joined(separator: "\n"), anyBroken)
    }
}
