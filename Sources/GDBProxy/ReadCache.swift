/// `m` replies kept while the guest stays stopped (`--cache-reads`): a second client reading
/// what the first just read is answered without QEMU. Anything that can change memory or its
/// meaning — a resume or step, a write, a thread or memory-mode change — empties it.
struct ReadCache {
    /// At most this many bytes of replies are kept.
    static let limit = 64 << 20
    private var entries: [[UInt8]: [UInt8]] = [:]
    private var size = 0
    private(set) var hits = 0

    /// The key of a read: the request and the selections it depends on.
    func key(_ request: UnsafeRawBufferPointer, selection: [[UInt8]?]) -> [UInt8] {
        var key = Array(request)
        for s in selection { key.append(0); if let s { key += s } }
        return key
    }

    mutating func lookup(_ key: [UInt8]) -> [UInt8]? {
        guard let hit = entries[key] else { return nil }
        hits += 1
        return hit
    }

    mutating func store(_ key: [UInt8], reply: [UInt8]) {
        guard size + reply.count <= Self.limit else { return }
        entries[key] = reply
        size += reply.count
    }

    /// The key of the block a ``ReadAhead`` request lies in.
    func blockKey(_ r: ReadAhead.Request, selection: [[UInt8]?]) -> [UInt8] {
        ReadAhead.blockRequest(r).withUnsafeBytes { key($0, selection: selection) }
    }

    mutating func invalidate() {
        if size > 0 || !entries.isEmpty { entries.removeAll(); size = 0 }
    }
}
