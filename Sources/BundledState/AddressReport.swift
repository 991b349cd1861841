/// What `kmemscope kmem ADDR` says about one address (crash's `kmem <addr>`): the frame and
/// block it falls in, the block's state, the slab object it is part of (cache, index, start,
/// free or in use), and the operations from the log that handed it out and last changed it (as
/// Linux's page_owner). Plain values: the command resolves the address and reads the guest.
public struct AddressReport: Sendable {
    /// How the address was read.
    public enum Space: String, Sendable, Codable {
        /// A kernel virtual address in the direct map (`DIRECT_MAP + phys`).
        case directMap = "direct-map"
        /// A kernel virtual address in the kernel image (the ELF's load segments).
        case kernelImage = "kernel-image"
        /// A physical address.
        case physical
    }

    /// The frame's state, from its flags.
    public enum State: String, Sendable, Codable {
        case free, allocated, reserved, quarantined
        /// On the order-0 per-CPU list.
        case perCPU = "per-cpu"
        /// No state bit, or more than one: the frame is corrupt.
        case inconsistent
    }

    /// A slab object of the heap.
    public struct SlabObject: Sendable {
        public var cache: String
        public var objectSize: UInt64
        /// The object's index in its slab, and its start (a direct-map address).
        public var index: UInt64
        public var start: UInt64
        /// Bytes from the object's start to the address.
        public var offset: UInt64
        /// On the slab's free list.
        public var free: Bool
        /// Past the last object of the slab (the page's unused tail).
        public var inTail: Bool
    }

    public var address: UInt64
    public var space: Space
    public var physical: UInt64
    public var frame: FrameReport
    public var state: State
    /// The slab object the address is in, on a slab page.
    public var slab: SlabObject?
    /// The block is a large heap allocation (`kmalloc` above the largest class).
    public var largeHeapBlock: Bool
    /// The operation that handed the object or block out (the newest one in the log).
    public var handedOutBy: OpLogRecord?
    /// For a free slab object: the `kfree` that gave it back.
    public var freedBy: OpLogRecord?
    /// The operation that last changed the frame (`FrameMeta.lastSeq`), when the log holds it.
    public var lastChangedBy: OpLogRecord?

    /// Describes `physical` (reached through `address` read as `space`); nil past the frame
    /// table. `log` is the log's entries, oldest first (any window of them); `largeHeapOwner`
    /// the owner tag of large heap blocks.
    public init?(_ s: KernelSnapshot, address: UInt64, space: Space, physical: UInt64, log: [OpLogRecord], largeHeapOwner: UInt64?) {
        guard s.pageSize > 0, let frame = FrameReport(s, pfn: physical / s.pageSize) else { return nil }
        self.address = address
        self.space = space
        self.physical = physical
        self.frame = frame
        let f = s.flags
        let m = frame.record
        // the block head's flags say the block's state (interior frames of a block carry none)
        let headRecord = frame.block.flatMap { s.frames[$0.head] } ?? m
        let flags = headRecord.flags
        let states = [(f.free, State.free), (f.allocated, .allocated), (f.reserved, .reserved), (f.pcp, .perCPU)].filter { $0.0 != 0 && flags & $0.0 != 0 }
        if f.poisoned != 0 && flags & f.poisoned != 0 && flags & f.reserved != 0 {
            state = .quarantined
        } else {
            state = states.count == 1 ? states[0].1 : .inconsistent
        }
        largeHeapBlock = largeHeapOwner.map { headRecord.owner == $0 && flags & f.allocated != 0 } ?? false
        slab = Self.slabObject(s, pfn: frame.pfn, record: m, physical: physical)
        let newestFirst = log.reversed()
        lastChangedBy = m.lastSeq == 0 ? nil : newestFirst.first { $0.sequence == m.lastSeq }
        if let slab {
            // the kmalloc that returned this object's start, and for a free one the kfree after it
            handedOutBy = newestFirst.first { $0.kind == .heapAllocate && $0.status == 0 && $0.result == slab.start }
            if slab.free {
                freedBy = newestFirst.first { $0.kind == .heapFree && $0.status == 0 && $0.address == slab.start
                    && $0.sequence > (handedOutBy?.sequence ?? 0) }
            }
        } else if largeHeapBlock, let block = frame.block, let direct = s.heap?.directMap {
            let start = direct &+ block.head &* s.pageSize
            handedOutBy = newestFirst.first { $0.kind == .heapAllocate && $0.status == 0 && $0.result == start }
        } else if state == .allocated || state == .reserved {
            let head = frame.block?.head ?? frame.pfn
            handedOutBy = newestFirst.first { Self.handsOut($0, head: head, pfn: frame.pfn) }
        }
    }

    /// Whether `r` is the operation that gave out the block at `head` (or reserved `pfn`).
    static func handsOut(_ r: OpLogRecord, head: UInt64, pfn: UInt64) -> Bool {
        guard r.status == 0 else { return false }
        switch r.kind {
        case .allocate, .allocateCount: return r.result == head
        case .allocateFrame: return r.address == pfn && r.result == 1
        case .reserveRange: return r.result == 1 && r.address <= pfn && pfn &- r.address < r.size
        default: return false
        }
    }

    /// The slab object at `physical` when frame `pfn` is a slab page whose contents were read.
    static func slabObject(_ s: KernelSnapshot, pfn: UInt64, record m: FrameRecord, physical: UInt64) -> SlabObject? {
        guard let heap = s.heap, m.flags & s.flags.slab != 0, m.owner >= heap.slabOwnerBase,
              m.owner &- heap.slabOwnerBase < UInt64(heap.caches.count) else { return nil }
        let cache = heap.caches[Int(m.owner &- heap.slabOwnerBase)]
        guard cache.objectSize > 0 else { return nil }
        let base = heap.directMap &+ pfn &* s.pageSize
        let inPage = physical % s.pageSize
        let index = inPage / cache.objectSize
        let start = base &+ index &* cache.objectSize
        var free = false
        if let page = heap.pages[pfn] {
            // the in-page free list, bounded by the objects a slab holds
            var object = m.slabFree
            var steps: UInt64 = 0
            while object != 0 && steps <= cache.objectsPerSlab {
                if object == start { free = true; break }
                guard object >= base, object &- base + 8 <= UInt64(page.count) else { break }
                let at = Int(object &- base)
                object = page[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
                steps += 1
            }
        }
        return SlabObject(cache: cache.name, objectSize: cache.objectSize, index: index, start: start,
                          offset: inPage - index * cache.objectSize, free: free, inTail: index >= cache.objectsPerSlab)
    }
}
