/// The slab heap as read from guest memory: its caches and the contents of every slab page
/// on their lists.
public struct HeapSnapshot: Sendable {
    /// One size class (the kernel's `SlabCache`).
    public struct Cache: Sendable, Equatable {
        public var index: Int
        public var objectSize: UInt64
        public var objectsPerSlab: UInt64
        public var partialHead: UInt64
        public var fullHead: UInt64
        public var partialSlabs: UInt64
        public var fullSlabs: UInt64
        public var inUse: UInt64
        /// Objects handed out and freed since boot, when the decoder read them (nil otherwise).
        public var allocations: UInt64?
        public var frees: UInt64?

        public init(index: Int, objectSize: UInt64, objectsPerSlab: UInt64, partialHead: UInt64, fullHead: UInt64,
                    partialSlabs: UInt64, fullSlabs: UInt64, inUse: UInt64) {
            self.index = index
            self.objectSize = objectSize
            self.objectsPerSlab = objectsPerSlab
            self.partialHead = partialHead
            self.fullHead = fullHead
            self.partialSlabs = partialSlabs
            self.fullSlabs = fullSlabs
            self.inUse = inUse
        }

        public var name: String { "kmalloc-\(objectSize)" }
    }

    public var caches: [Cache]
    /// Owner tag of slab pages: `slabOwnerBase + cache index`.
    public var slabOwnerBase: UInt64
    /// Byte a free object holds after its 8-byte link.
    public var poison: UInt8
    /// Virtual address of physical 0 (slab free-list links are virtual addresses).
    public var directMap: UInt64
    /// The 4 KiB contents of each slab page found on a cache list, by PFN.
    public var pages: [UInt64: [UInt8]]

    public init(caches: [Cache], slabOwnerBase: UInt64, poison: UInt8, directMap: UInt64, pages: [UInt64: [UInt8]]) {
        self.caches = caches
        self.slabOwnerBase = slabOwnerBase
        self.poison = poison
        self.directMap = directMap
        self.pages = pages
    }
}
