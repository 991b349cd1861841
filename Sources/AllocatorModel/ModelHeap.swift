/// The slab heap of kernel/README.md ("Slab heap", "Precisely: …"): eight size classes of
/// one-page slabs with in-page free lists, and large allocations as whole buddy blocks.
public struct ModelHeap: Sendable, Equatable {
    /// Size classes `kmalloc-16` … `kmalloc-2048`.
    public static let objectSizes: [UInt64] = [16, 32, 64, 128, 256, 512, 1024, 2048]
    public static let largestObject: UInt64 = 2048

    /// One size class.
    public struct Cache: Sendable, Equatable {
        public var objectSize: UInt64
        public var objectsPerSlab: UInt64
        /// Slab pages with some objects free, front first.
        public var partial: [UInt64] = []
        /// Slab pages with none free, front first.
        public var full: [UInt64] = []
        /// Objects handed out.
        public var inUse: UInt64 = 0
    }

    /// One slab page.
    public struct Slab: Sendable, Equatable {
        public var cache: Int
        /// Free object addresses, the first free object first.
        public var free: [UInt64]
        public var inUse: UInt64
    }

    public var caches: [Cache]
    /// Slab pages by PFN.
    public var slabs = PFNTable<Slab>()
    /// Large allocations: head PFN → order.
    public var large = PFNTable<Int>()
    /// Virtual address of physical 0 (objects are direct-map addresses).
    public var directMap: UInt64

    public init(directMap: UInt64) {
        self.directMap = directMap
        caches = Self.objectSizes.map { Cache(objectSize: $0, objectsPerSlab: ModelState.pageSize / $0) }
    }

    /// Address of frame `pfn`'s first byte.
    public func address(of pfn: UInt64) -> UInt64 { directMap &+ pfn &* ModelState.pageSize }
}

extension ModelState {
    /// `kmalloc(size, alignment)`: "needs need = max(size, 1, alignment) bytes. Above 2048 it
    /// allocates (nested, logged) the smallest order whose block holds need bytes, Unmovable, any
    /// zone, owner 0x1a46e000. Otherwise it uses the smallest class ≥ need …"
    @discardableResult
    public mutating func kmalloc(size: UInt64, alignment: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .heapAllocate, alignment: alignment, size: size)) { m in
            // "invalid … alignment" is misuse.
            guard alignment != 0, alignment & (alignment - 1) == 0 else { return .misuse }
            let need = max(size, 1, alignment)
            if need > ModelHeap.largestObject {
                var order = 0
                while order <= Self.maxOrder && Self.pageSize << UInt64(order) < need { order += 1 }
                // A request larger than the largest block: no block holds it.
                guard order <= Self.maxOrder else { return .failed(.max) }
                let r = m.allocate(order: order, migratetype: 0, zone: 2, alignment: 1, owner: Self.largeHeapOwner,
                                   ignoreWatermarks: false)
                guard r.status == .ok else { return .failed(.max) }
                m.heap.large[r.value] = order
                return .ok(m.heap.address(of: r.value))
            }
            let c = ModelHeap.objectSizes.firstIndex { $0 >= need }!
            // "when the partial list is empty a slab is first added — an order-0 Unmovable page
            // (nested allocate, any zone, owner 0x51ab0000 + class) whose objects are linked in
            // address order, pushed on the partial list."
            if m.heap.caches[c].partial.isEmpty {
                let r = m.allocate(order: 0, migratetype: 0, zone: 2, alignment: 1, owner: Self.slabOwnerBase + UInt64(c),
                                   ignoreWatermarks: false)
                guard r.status == .ok else { return .failed(.max) }
                m.allocated[r.value]?.slab = true
                let cache = m.heap.caches[c]
                let base = m.heap.address(of: r.value)
                m.heap.slabs[r.value] = ModelHeap.Slab(
                    cache: c, free: (0..<cache.objectsPerSlab).map { base + $0 * cache.objectSize }, inUse: 0)
                m.heap.caches[c].partial.insert(r.value, at: 0)
            }
            // "the object is the first free object of the first slab of the cache's partial list"
            let pfn = m.heap.caches[c].partial[0]
            let object = m.heap.slabs[pfn]!.free.removeFirst()
            m.heap.slabs[pfn]!.inUse += 1
            m.heap.caches[c].inUse += 1
            // "A slab whose last free object is taken moves to the front of the full list."
            if m.heap.slabs[pfn]!.free.isEmpty {
                m.heap.caches[c].partial.removeFirst()
                m.heap.caches[c].full.insert(pfn, at: 0)
            }
            return .ok(object)
        }
    }

    /// `kfree(address)`: "pushes the object on the front of its slab's free list; a full slab moves
    /// to the front of the partial list; a slab with no object in use leaves the partial list and
    /// is freed (nested free, order 0). A large block is freed with its order (nested free)."
    /// Misuse: "kfree of an address the heap did not hand out, of a free object (double free)".
    @discardableResult
    public mutating func kfree(_ address: UInt64) -> ModelResult {
        let seq = beginOperation()
        return operation(seq, entry(seq, .heapFree, address: address)) { m in
            guard m.kfreeMisuse(address) == nil else { return .misuse }
            let pfn = (address - m.heap.directMap) / Self.pageSize
            if let slab = m.heap.slabs[pfn] {
                let c = slab.cache
                let wasFull = slab.free.isEmpty
                m.heap.slabs[pfn]!.free.insert(address, at: 0)
                m.heap.slabs[pfn]!.inUse -= 1
                m.heap.caches[c].inUse -= 1
                if wasFull {
                    m.heap.caches[c].full.removeAll { $0 == pfn }
                    m.heap.caches[c].partial.insert(pfn, at: 0)
                }
                if m.heap.slabs[pfn]!.inUse == 0 {
                    m.heap.caches[c].partial.removeAll { $0 == pfn }
                    m.heap.slabs[pfn] = nil
                    _ = m.freePages(pfn, order: 0, byHeap: true)
                }
                return .ok(1)
            }
            let order = m.heap.large.removeValue(forKey: pfn)!
            _ = m.freePages(pfn, order: order, byHeap: true)
            return .ok(1)
        }
    }

    /// Why `kfree(address)` is misuse, or nil when the heap handed the address out and it is
    /// not free: an object of a slab, or the first byte of a large block.
    func kfreeMisuse(_ address: UInt64) -> String? {
        guard address >= heap.directMap else { return "kfree of an address the heap did not hand out" }
        let pfn = (address - heap.directMap) / Self.pageSize
        if let slab = heap.slabs[pfn] {
            let size = heap.caches[slab.cache].objectSize
            let offset = address - heap.address(of: pfn)
            guard offset % size == 0, offset / size < heap.caches[slab.cache].objectsPerSlab else {
                return "kfree of an address the heap did not hand out"
            }
            return slab.free.contains(address) ? "kfree of a free object (double free)" : nil
        }
        if heap.large[pfn] != nil, address == heap.address(of: pfn) { return nil }
        return "kfree of an address the heap did not hand out"
    }
}
