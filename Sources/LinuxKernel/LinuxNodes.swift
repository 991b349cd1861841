import KernelLayouts

/// The guest's NUMA nodes that have memory state to read: `node_data[i]` is non-null, a kernel
/// address, and the `pglist_data` it points at says `node_id == i` (so a word past the end of a
/// smaller `node_data[]` is never taken for a node). kmemscope's Linux decoder reads node 0;
/// a verdict over node 0 of a guest with more nodes covers part of the machine, and the
/// commands say so (issue 22, docs/checks.md).
public struct LinuxNodes: Sendable, Equatable {
    /// Node ids with a `pglist_data`, ascending.
    public let ids: [Int]

    /// The most entries of `node_data[]` looked at (`MAX_NUMNODES` with `CONFIG_NODES_SHIFT=10`,
    /// Debian's `MAXSMP`).
    public static let limit = 1024

    /// Nodes other than node 0.
    public var others: [Int] { ids.filter { $0 != 0 } }
}

extension LinuxKernelTarget {
    /// Reads `node_data[0 ..< LinuxNodes.limit]` (or its first 64 entries when the larger read
    /// crosses into unmapped memory) and keeps every entry whose `pglist_data.node_id` is its index.
    /// - Throws: when `node_data` is not in the symbols or `pglist_data.node_id` not in BTF.
    /// - Parameter probe: where to read (default ``memory``); the stub reads every node's RAM,
    ///   where a faster source may hold only some of a NUMA guest's memory backends.
    public func nodes(probe: (any GuestMemory)? = nil) throws -> LinuxNodes {
        let memory = probe ?? self.memory
        let table = try symbols.address(of: "node_data")
        let nodeID = try btf.member("node_id", of: "pglist_data")
        guard nodeID.size == 4 else {
            throw LinuxDecodeError.implausible(what: "sizeof(pglist_data.node_id)", value: UInt64(nodeID.size))
        }
        var words: [UInt8] = []
        for count in [LinuxNodes.limit, 64, 1] {
            if let bytes = try? memory.read(at: table, count: count * 8) { words = bytes; break }
        }
        guard words.count >= 8 else {
            throw LinuxDecodeError.unreadable(what: "node_data", address: table, underlying: "not mapped")
        }
        var ids: [Int] = []
        for i in 0..<(words.count / 8) {
            let pgdat = loadU64(words, i * 8)
            guard pgdat >= 0xffff_8000_0000_0000,
                  let id = try? memory.read(at: pgdat &+ UInt64(nodeID.offset), count: 4),
                  loadU32(id, 0) == UInt32(i) else { continue }
            ids.append(i)
        }
        return LinuxNodes(ids: ids)
    }
}
