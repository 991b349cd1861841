import BundledState

/// The reference model's state: the allocator of kernel/README.md ("Rules", "Slab heap")
/// written as plainly as possible — tables keyed by PFN (`PFNTable`: a dictionary in use, an
/// array index inside, for speed), ordered arrays for the LIFO lists (index 0 = the front,
/// "push" inserts at 0), no intrusive links, no bitmaps.
///
/// It is deliberately a second, independent implementation of the contract: it never reads
/// the kernel's code, only the README, so where the two disagree one of them (or the README)
/// is wrong. The operations live in the files named after the contract's paragraphs
/// (`ModelAllocation`, `ModelFreeing`, `ModelPerCPU`, `ModelSpecificFrames`, `ModelPoisoning`,
/// `ModelHeap`).
public struct ModelState: Sendable, Equatable {
    // MARK: constants of the contract ("Orders 0…11, pageblocks order 9")
    public static let maxOrder = 11
    public static let pageblockOrder = 9
    /// Free-list slots per order (Unmovable, Movable, and room for two more).
    public static let migratetypeSlots = 4
    /// Rows of the kernel's per-CPU cache table (`KMEM_MAX_CPUS`): CPUs the model keeps caches for.
    public static let maxCPUs = 16
    public static let migratetypes = 2
    public static let pageSize: UInt64 = 4096
    /// Owner tag of a quarantined frame ("Page poisoning").
    public static let quarantineOwner: UInt64 = 0x0bad_0000
    /// Owner tags of the heap ("Slab heap").
    public static let slabOwnerBase: UInt64 = 0x51ab_0000
    public static let largeHeapOwner: UInt64 = 0x1a46_e000

    /// One zone: its counters, watermarks and per-CPU lists.
    public struct Zone: Sendable, Equatable {
        public var index: Int
        /// Its segments' indices, in index order.
        public var segments: [Int]
        public var managedPages: UInt64 = 0
        public var freePages: UInt64 = 0
        public var allocatedPages: UInt64 = 0
        public var reservedPages: UInt64 = 0
        public var watermarkMin: UInt64 = 0
        public var watermarkLow: UInt64 = 0
        public var watermarkHigh: UInt64 = 0
        /// `lowmemReserve[j]`: pages kept back from requests whose highest allowed zone is j.
        public var lowmemReserve: [UInt64] = [0, 0, 0]
        public var pcpHigh: UInt64 = 0
        public var pcpBatch: UInt64 = 0
        /// Every CPU's cache of the zone (kernel/README.md "Per-CPU caches"), index = CPU.
        public var caches: [PerCPU] = Array(repeating: PerCPU(), count: ModelState.maxCPUs)
        /// CPU 0's lists, one per migratetype slot, front first.
        public var pcpLists: [[UInt64]] { get { caches[0].lists } set { caches[0].lists = newValue } }
        /// CPU 0's drain cursor.
        public var drainCursor: Int { get { caches[0].drainCursor } set { caches[0].drainCursor = newValue } }
        /// "Pageblock tags: one migratetype per pageblock per zone": pageblock number (`pfn >> 9`)
        /// → migratetype, Movable when absent (the kernel keeps equal copies in the segments a
        /// hole splits a pageblock between; the model keeps the one tag). Keyed by pageblock
        /// number rather than PFN, in the same kind of table.
        public var tags = PFNTable<Int>()

        /// Frames on every CPU's lists.
        public var pcpCount: UInt64 { caches.reduce(0) { $0 + $1.count } }
    }

    /// One CPU's order-0 cache of one zone.
    public struct PerCPU: Sendable, Equatable {
        /// Lists, one per migratetype slot, front first.
        public var lists: [[UInt64]] = Array(repeating: [], count: ModelState.migratetypeSlots)
        /// The slot the next drain looks at first ("Draining": the cursor persists).
        public var drainCursor: Int = 0
        /// Frames on its lists.
        public var count: UInt64 { UInt64(lists.reduce(0) { $0 + $1.count }) }
    }

    /// One segment: a contiguous run of managed frames in one zone.
    public struct Segment: Sendable, Equatable {
        public var index: Int
        public var zone: Int
        public var startPFN: UInt64
        public var endPFN: UInt64
        public var freePages: UInt64 = 0
        public var reservedPages: UInt64 = 0
        /// `freeLists[migratetype][order]`: heads of free blocks, front first.
        public var freeLists: [[[UInt64]]] = Array(repeating: Array(repeating: [], count: ModelState.maxOrder + 1),
                                                  count: ModelState.migratetypeSlots)

        public func contains(_ pfn: UInt64) -> Bool { pfn >= startPFN && pfn < endPFN }
    }

    /// A free buddy block, by its head.
    public struct FreeBlock: Sendable, Equatable {
        public var order: Int
        /// The list it is on.
        public var migratetype: Int
    }

    /// An allocated block, by its head.
    public struct AllocatedBlock: Sendable, Equatable {
        public var order: Int
        public var migratetype: Int
        public var owner: UInt64
        public var refcount: UInt32 = 1
        /// A slab page of the heap.
        public var slab = false
        /// Sequence of the operation that handed it out.
        public var lastSeq: UInt64
        /// Sequence of the last `get`/`put` (which change the head's refcount only), if later.
        public var headLastSeq: UInt64? = nil
    }

    /// A reserved frame inside a segment (`reserveRange`, or a quarantine).
    public struct ReservedFrame: Sendable, Equatable {
        public var owner: UInt64
        /// RESERVED|POISONED: quarantined because its poison was overwritten.
        public var quarantined: Bool
        public var lastSeq: UInt64
    }

    public var zones: [Zone]
    public var segments: [Segment]
    /// Free blocks by head PFN.
    public var freeBlocks = PFNTable<FreeBlock>()
    /// Allocated blocks by head PFN.
    public var allocated = PFNTable<AllocatedBlock>()
    /// Reserved frames inside segments, by PFN.
    public var reserved = PFNTable<ReservedFrame>()
    /// Frames on a per-CPU list: PFN → migratetype slot of the list.
    public var cached = PFNTable<Int>()
    /// The slab heap.
    public var heap: ModelHeap
    /// The last sequence number taken (an operation takes `sequence + 1` when it starts).
    public var sequence: UInt64 = 0
    /// The sequence numbers the next operations take, in order, before `sequence + 1` again:
    /// replay sets them to the kernel's entries of one operation, whose nested operations may
    /// have taken numbers another CPU's operations came between (smp=free; kernel/README.md
    /// "Operation log"). Empty: every operation takes `sequence + 1`.
    public var plannedSequences: ArraySlice<UInt64> = []
    /// The CPU running the next operation (its per-CPU caches are the ones used; replay sets it
    /// from each entry's `cpu`).
    public var cpu: Int = 0
    /// Page poisoning on (`poison=1`).
    public var poisoning = false
    /// Tells the model which frames' poison was overwritten (it cannot see page contents).
    public var poisonOracle: PoisonOracle = .none
    /// The model's own operation log, in the order entries are written (nested before parent).
    public var log: [OpLogRecord] = []
    /// Keep `log` (replay and the differential tests read it); off, nothing is appended.
    public var keepsLog = true
    /// How often each path of the contract was taken (statistics, not state).
    public var events = ModelEvents()
    /// What could not be read when the state was built from a snapshot (a list that does not end…).
    public var problems: [String] = []
    /// Where the zones begin (needed to split hot-added memory), when known.
    public var zoneLimits: ZoneLimits?
    /// RAM held back at boot and not added yet (`hotadd=`), in PFN ranges.
    public var heldBack: [Range<UInt64>] = []
    /// Frames a hot-add reserved for its bitmaps (boot-reserved, owner 5).
    public var bootReservedFrames: Set<UInt64> = []
    /// The operation currently running (0 = none), the parent of nested ones.
    var parentSequence: UInt64 = 0

    public init(zones: [Zone], segments: [Segment], directMap: UInt64) {
        self.zones = zones
        self.segments = segments
        heap = ModelHeap(directMap: directMap)
        cover(segments.map { $0.startPFN..<$0.endPFN })
    }

    /// Sizes the PFN tables' index for the frames of `ranges` (they still grow for others).
    mutating func cover(_ ranges: [Range<UInt64>]) {
        guard let low = ranges.map(\.lowerBound).min(), let high = ranges.map(\.upperBound).max(), low < high else { return }
        freeBlocks = PFNTable(covering: low..<high)
        allocated = PFNTable(covering: low..<high)
        reserved = PFNTable(covering: low..<high)
        cached = PFNTable(covering: low..<high)
    }

    // MARK: lookups

    /// Pages in a block of `order`.
    @inline(__always) static func pages(_ order: Int) -> UInt64 { 1 << UInt64(order) }

    /// The segment holding `pfn`, if it is managed.
    public func segmentIndex(of pfn: UInt64) -> Int? {
        segments.firstIndex { $0.contains(pfn) }
    }

    /// The head of the free block holding `pfn`, if any.
    public func freeHead(containing pfn: UInt64) -> UInt64? {
        for k in 0...Self.maxOrder {
            let head = pfn & ~(Self.pages(k) - 1)
            if let b = freeBlocks[head], b.order >= k { return head }
        }
        return nil
    }

    /// The head of the allocated block holding `pfn`, if any.
    public func allocatedHead(containing pfn: UInt64) -> UInt64? {
        for k in 0...Self.maxOrder {
            let head = pfn & ~(Self.pages(k) - 1)
            if let b = allocated[head], b.order >= k { return head }
        }
        return nil
    }

    /// The migratetype tag of `pfn`'s pageblock in `pfn`'s segment (Movable when never set: "all
    /// pageblock tags start Movable").
    public func tag(of pfn: UInt64) -> Int {
        guard let s = segmentIndex(of: pfn) else { return 1 }
        return zones[segments[s].zone].tags[pfn >> UInt64(Self.pageblockOrder)] ?? 1
    }

    mutating func setTag(_ pfn: UInt64, _ mt: Int) {
        guard let s = segmentIndex(of: pfn) else { return }
        // Movable is kept as "no entry", so equal tags are equal tables.
        zones[segments[s].zone].tags[pfn >> UInt64(Self.pageblockOrder)] = mt == 1 ? nil : mt
    }

    // MARK: list primitives ("Push" puts a block at the front of a list)

    /// Pushes free block `head` on list (`mt`, `order`) of its segment and counts it free.
    mutating func pushFree(_ head: UInt64, order: Int, mt: Int, segment s: Int) {
        segments[s].freeLists[mt][order].insert(head, at: 0)
        freeBlocks[head] = FreeBlock(order: order, migratetype: mt)
        let n = Self.pages(order)
        segments[s].freePages += n
        zones[segments[s].zone].freePages += n
    }

    /// Takes free block `head` off its list; it is no longer free.
    mutating func unlinkFree(_ head: UInt64, segment s: Int) {
        guard let b = freeBlocks.removeValue(forKey: head) else { preconditionFailure("model: unlink of a block that is not free") }
        let list = segments[s].freeLists[b.migratetype][b.order]
        let i = list.firstIndex(of: head)!
        segments[s].freeLists[b.migratetype][b.order].remove(at: i)
        let n = Self.pages(b.order)
        segments[s].freePages -= n
        zones[segments[s].zone].freePages -= n
    }

    /// Moves a free block to the front of another migratetype's list of its order (stealing).
    mutating func moveFree(_ head: UInt64, to mt: Int, segment s: Int) {
        let order = freeBlocks[head]!.order
        unlinkFree(head, segment: s)
        pushFree(head, order: order, mt: mt, segment: s)
    }

    /// Splits free block `head` (already unlinked) of order `k` down to `order`, keeping the
    /// lower part and pushing the upper half at each order from k−1 down to `order` on list `mt`.
    mutating func split(_ head: UInt64, from k: Int, to order: Int, mt: Int, segment s: Int) {
        var j = k
        while j > order {
            j -= 1
            pushFree(head + Self.pages(j), order: j, mt: mt, segment: s)
        }
    }

    /// Takes the single frame `pfn` out of free block `head` (already unlinked) of order `k`:
    /// "at each order from the block's order − 1 to 0 pushing the half that does not hold the
    /// frame on the block's migratetype list".
    mutating func splitAround(_ pfn: UInt64, head: UInt64, order k: Int, mt: Int, segment s: Int) {
        var base = head
        var j = k
        while j > 0 {
            j -= 1
            let half = Self.pages(j)
            if pfn >= base + half {
                pushFree(base, order: j, mt: mt, segment: s)
                base += half
            } else {
                pushFree(base + half, order: j, mt: mt, segment: s)
            }
        }
    }
}
