import KernelLayouts

/// Reads SLUB's caches from guest memory: `slab_caches` → each `struct kmem_cache` → its
/// `node[]` → each `kmem_cache_node`'s counts and partial list → each partial `struct slab`'s
/// `counters`, and (where the cache stores users, `slub_debug=U`) each node's full list. Every
/// list walk is bounded (`slab_caches` by ``cacheLimit``, a partial list by its `nr_partial` + 1,
/// a full list by the node's `nr_slabs` + 1) and says where it broke.
public struct SlubDecoder {
    public var memory: GuestMemory
    public var symbols: SymbolMap
    public var layout: SlubLayout
    /// The most caches `slab_caches` may hold before the walk gives up.
    public var cacheLimit = 65_536
    /// The most partial slabs one node's list may hold.
    public var partialLimit = 1 << 22

    public init(memory: GuestMemory, symbols: SymbolMap, layout: SlubLayout) {
        self.memory = memory
        self.symbols = symbols
        self.layout = layout
    }

    public func decode() throws -> SlubState {
        let head = try symbols.address(of: "slab_caches")
        // kmem_cache.node[] is declared MAX_NUMNODES long, but a cache is allocated with
        // nr_node_ids entries: those past it belong to the next object
        let nodeIDs = try memory.readU32(at: try symbols.address(of: "nr_node_ids"))
        guard nodeIDs >= 1, nodeIDs <= layout.nodeSlots else {
            throw LinuxDecodeError.implausible(what: "nr_node_ids", value: UInt64(nodeIDs))
        }
        var layout = layout
        layout.nodeSlots = Int(nodeIDs)
        let decoder = SlubDecoder(memory: memory, symbols: symbols, layout: layout)
        let walk = ListWalk.walk(head: head, limit: cacheLimit) { try links($0) }
        var caches: [SlubCache] = []
        for node in walk.nodes {
            caches.append(try decoder.cache(at: node &- UInt64(layout.cacheListOffset)))
        }
        return SlubState(caches: caches, listIssue: walk.end == .closed ? nil : "slab_caches: \(walk.end)")
    }

    func links(_ node: UInt64) throws -> (next: UInt64, prev: UInt64) {
        let bytes = try memory.read(at: node, count: max(layout.listNextOffset, layout.listPrevOffset) + 8)
        return (loadU64(bytes, layout.listNextOffset), loadU64(bytes, layout.listPrevOffset))
    }

    func cache(at address: UInt64) throws -> SlubCache {
        let span = layout.cacheNodeOffset + layout.nodeSlots * 8
        let bytes = try memory.read(at: address, count: max(span, layout.cacheOOOffset + 4, layout.cacheSizeOffset + 4, layout.cacheObjectSizeOffset + 4, layout.cacheNameOffset + 8))
        let oo = loadU32(bytes, layout.cacheOOOffset)
        let name = (try? cString(at: loadU64(bytes, layout.cacheNameOffset), limit: 64)) ?? "?"
        var cache = SlubCache(address: address, name: name, size: loadU32(bytes, layout.cacheSizeOffset),
                              objectSize: loadU32(bytes, layout.cacheObjectSizeOffset),
                              objectsPerSlab: Int(oo & ((1 << UInt32(SlubLayout.ooShift)) - 1)),
                              pagesPerSlab: 1 << Int(min(oo >> UInt32(SlubLayout.ooShift), 20)),
                              slabs: 0, objects: 0, freeOnPartial: 0, partialSlabs: 0, issues: [])
        for slot in 0..<layout.nodeSlots {
            let node = loadU64(bytes, layout.cacheNodeOffset + slot * 8)
            guard node != 0 else { continue }
            try addNode(slot, at: node, to: &cache)
        }
        return cache
    }

    func addNode(_ slot: Int, at node: UInt64, to cache: inout SlubCache) throws {
        let nrPartial = try memory.readU64(at: node &+ UInt64(layout.nodePartialCountOffset))
        if let o = layout.nodeSlabCountOffset { cache.slabs &+= Int(truncatingIfNeeded: try memory.readU64(at: node &+ UInt64(o))) }
        if let o = layout.nodeTotalObjectsOffset { cache.objects &+= Int(truncatingIfNeeded: try memory.readU64(at: node &+ UInt64(o))) }
        let bound = Int(clamping: min(UInt64(partialLimit), nrPartial)) + 1
        let walk = ListWalk.walk(head: node &+ UInt64(layout.nodePartialOffset), limit: bound) { try links($0) }
        if walk.end != .closed { cache.issues.append("node \(slot) partial list: \(walk.end)") }
        for link in walk.nodes {
            let slab = link &- UInt64(layout.slabListOffset)
            let counters = try memory.readU64(at: slab &+ UInt64(layout.slabCountersOffset))
            let inuse = Int(counters & 0xffff), objects = Int((counters >> 16) & 0x7fff)
            cache.freeOnPartial &+= max(0, objects - inuse)
            cache.partialSlabs += 1
            cache.partialSlabAddresses.append(slab)
        }
        // the full list (empty unless the cache stores users): bounded by the node's nr_slabs
        guard let fullOffset = layout.nodeFullOffset else { return }
        let slabCount = try layout.nodeSlabCountOffset.map { try memory.readU64(at: node &+ UInt64($0)) } ?? UInt64(partialLimit)
        let fullBound = Int(clamping: min(UInt64(partialLimit), slabCount)) + 1
        let full = ListWalk.walk(head: node &+ UInt64(fullOffset), limit: fullBound) { try links($0) }
        if full.end != .closed { cache.issues.append("node \(slot) full list: \(full.end)") }
        cache.fullSlabAddresses += full.nodes.map { $0 &- UInt64(layout.slabListOffset) }
    }

    func cString(at address: UInt64, limit: Int) throws -> String {
        var bytes: [UInt8] = []
        while bytes.count < limit, !bytes.contains(0) { bytes += try memory.read(at: address &+ UInt64(bytes.count), count: 8) }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
