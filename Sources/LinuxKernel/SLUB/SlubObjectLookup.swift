/// What a SLUB slab holds at an address (`crash kmem ADDR`'s slab part): the cache (from the
/// slab's `slab_cache` back-pointer), the slab, the object the address falls in, and whether
/// that object is free — on the slab's freelist, or on the lockless freelist of the CPU that
/// holds the slab — or in use. Walks are bounded by the slab's object count.
public struct SlubObject: Sendable, Equatable {
    public var cacheName: String
    public var cacheAddress: UInt64
    /// `struct slab` (the head page's `struct page`) and the slab's first PFN.
    public var slab: UInt64
    public var slabPFN: UInt64
    /// `s->size`, the stride, and the slab's object count.
    public var size: UInt64
    public var objects: Int
    /// The object's index and start, and the address's offset in it; nil index when the
    /// address lies in the slab's red zone or tail, outside every object.
    public var index: Int?
    public var objectAddress: UInt64?
    public var offset: UInt64?
    /// Free (on a freelist) or in use; nil when the address is in no object.
    public var free: Bool?
    /// Which freelist holds it: "slab freelist" or "cpu N's freelist".
    public var freelist: String?
}

extension LinuxKernelTarget {
    /// The slab object at `address`, whose slab's head page is `headPFN`.
    /// - Throws: when SLUB's layout is not in BTF or the slab cannot be read.
    public func slubObject(at address: UInt64, headPFN: UInt64, state: LinuxBuddyState) throws -> SlubObject {
        try slubObject(at: address, headPFN: headPFN, state: state, layout: try SlubLayout(btf: btf))
    }

    /// ``slubObject(at:headPFN:state:)`` with SLUB's layout learned once by the caller.
    func slubObject(at address: UInt64, headPFN: UInt64, state: LinuxBuddyState, layout: SlubLayout) throws -> SlubObject {
        let slab = state.vmemmapBase &+ headPFN &* UInt64(page.size)
        let bytes = try memory.read(at: slab, count: max(layout.slabCacheOffset, layout.slabFreelistOffset, layout.slabCountersOffset) + 8)
        let cacheAddress = loadU64(bytes, layout.slabCacheOffset)
        let cacheBytes = try memory.read(at: cacheAddress, count: max(layout.cacheNameOffset, layout.cacheSizeOffset,
                                                                     layout.cacheCPUSlabOffset, layout.cacheFreeOffsetOffset,
                                                                     layout.cacheRandomOffset ?? 0, layout.cacheRedLeftPadOffset ?? 0) + 8)
        let name = (try? decoder.readCString(at: loadU64(cacheBytes, layout.cacheNameOffset), limit: 64)) ?? "?"
        let size = UInt64(loadU32(cacheBytes, layout.cacheSizeOffset))
        let key = SlubChecker.CacheKey(freeOffset: Int(loadU32(cacheBytes, layout.cacheFreeOffsetOffset)),
                                       random: layout.cacheRandomOffset.map { loadU64(cacheBytes, $0) },
                                       redLeft: layout.cacheRedLeftPadOffset.map { Int(loadU32(cacheBytes, $0)) } ?? 0)
        let objects = Int((loadU64(bytes, layout.slabCountersOffset) >> 16) & 0x7fff)
        let base = state.pageOffsetBase &+ headPFN &* 4096 &+ UInt64(key.redLeft)
        var result = SlubObject(cacheName: name, cacheAddress: cacheAddress, slab: slab, slabPFN: headPFN, size: size, objects: objects)
        // the slab's own freelist, then each CPU's lockless freelist for it, each walked whole
        // (bounded by the object count), whatever the address: a lookup reads the same bytes for
        // every address of the slab, so a recorded lookup answers any of them offline
        var lists: [(String, UInt64)] = [("slab freelist", loadU64(bytes, layout.slabFreelistOffset))]
        let cpuSlab = loadU64(cacheBytes, layout.cacheCPUSlabOffset)
        for (cpu, offset) in decoder.perCPUOffsets().enumerated() {
            guard let c = try? memory.read(at: cpuSlab &+ offset, count: max(layout.cpuFreelistOffset, layout.cpuSlabOffset) + 8),
                  loadU64(c, layout.cpuSlabOffset) == slab else { continue }
            lists.append(("cpu \(cpu)'s freelist", loadU64(c, layout.cpuFreelistOffset)))
        }
        var free: [UInt64: String] = [:]
        for (what, head) in lists {
            var next = head
            for _ in 0..<max(objects, 0) where next != 0 {
                guard next >= base, next - base < UInt64(objects) &* size else { break }
                if free[next] == nil { free[next] = what }
                let pointer = next &+ UInt64(key.freeOffset)
                guard let stored = try? memory.readU64(at: pointer) else { break }
                next = key.decode(stored, at: pointer)
            }
        }
        guard size > 0, address >= base, address - base < UInt64(objects) &* size else { return result }
        let index = Int((address - base) / size)
        let object = base + UInt64(index) * size
        result.index = index
        result.objectAddress = object
        result.offset = address - object
        result.free = free[object] != nil
        result.freelist = free[object]
        return result
    }
}
