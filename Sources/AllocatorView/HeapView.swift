/// A kernel heap's caches, with the counters /proc/slabinfo prints.
public struct HeapView: Sendable, Equatable {
    public var caches: [SlabCacheView]

    public init(caches: [SlabCacheView]) { self.caches = caches }
}

/// One slab cache: its objects and slabs. Counts read from the guest are as found; the
/// producer saturates sums and products at `UInt64.max` rather than trapping.
public struct SlabCacheView: Sendable, Equatable {
    public var name: String
    public var objectSize: UInt64
    public var objectsPerSlab: UInt64
    public var pagesPerSlab: UInt64
    public var activeObjects: UInt64
    public var totalObjects: UInt64
    public var activeSlabs: UInt64
    public var slabs: UInt64

    public init(name: String, objectSize: UInt64, objectsPerSlab: UInt64, pagesPerSlab: UInt64, activeObjects: UInt64,
                totalObjects: UInt64, activeSlabs: UInt64, slabs: UInt64) {
        self.name = name
        self.objectSize = objectSize
        self.objectsPerSlab = objectsPerSlab
        self.pagesPerSlab = pagesPerSlab
        self.activeObjects = activeObjects
        self.totalObjects = totalObjects
        self.activeSlabs = activeSlabs
        self.slabs = slabs
    }
}
