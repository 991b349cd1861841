/// Misuse of the allocator's API or corruption found on its fast path. The kernel prints
/// each as `kmem: BUG: <what> pfn 0x<pfn>` and halts; the host tests catch them.
///
/// Misuse is found before anything changes (the state after the throw is the state before
/// it); corruption may be found half way (`isCorruption`), and the state is then suspect.
public enum KmemError: Error {
    /// An order outside `0...Kmem.maxOrder`.
    case invalidOrder(order: Int)
    /// An alignment that is zero or not a power of two (in pages).
    case invalidAlignment(pages: UInt64)
    /// A frame range of zero frames, or one whose end wraps around.
    case invalidRange(start: PFN, count: UInt64)
    /// The frame is not in any segment: not RAM, or not handed to the buddy allocator.
    case outsideManagedMemory(pfn: PFN)
    /// The block is already free (or cached on the per-CPU list).
    case doubleFree(pfn: PFN)
    /// Freed with an order other than the one it was allocated with.
    case wrongOrder(pfn: PFN, allocated: Int, freed: Int)
    /// The frame is reserved and cannot be freed.
    case freeReserved(pfn: PFN)
    /// The page is a slab page of the heap: only `kfree` of its objects may release it.
    case freeSlabPage(pfn: PFN)
    /// The block is a large allocation of the heap: only `kfree` may release it.
    case freeHeapBlock(pfn: PFN)
    /// The frame is inside an allocated block, not its first frame.
    case notBlockHead(pfn: PFN)
    /// The frame is in no state that can be freed.
    case notAllocated(pfn: PFN, flags: UInt32)
    /// An allocated head whose reference count is not 1 (`free`), or would wrap (`get`).
    case badRefcount(pfn: PFN, refcount: UInt32)
    /// `get`/`put` of a frame that is not the head of an allocated block.
    case notReferenceable(pfn: PFN, flags: UInt32)
    /// `allocateCount` of 0 frames or more than a maximal block.
    case invalidCount(count: UInt64)
    /// `freeCount` of a range that is not what `allocateCount` handed out (`pfn` is the
    /// first piece that does not match).
    case countMismatch(pfn: PFN, count: UInt64)
    /// `unreserve` of a frame that `reserveRange` did not reserve.
    case notReserved(pfn: PFN, flags: UInt32)
    /// `addMemory` of a frame that is already RAM the allocator knows (managed or reserved).
    case memoryOverlap(pfn: PFN)
    /// `addMemory` would need more segments than the allocator has room for.
    case tooManySegments(pfn: PFN)
    /// A free or per-CPU list link that does not point back, or points outside memory.
    case corruptedList(pfn: PFN, link: UInt64)
    /// A frame whose metadata contradicts the operation (e.g. a free frame in no free block).
    case corruptedFrame(pfn: PFN, flags: UInt32)
    /// The parity bit of a buddy pair disagrees with the buddy's metadata (`pfn` is the
    /// buddy, `free` what the bit says).
    case parityMismatch(pfn: PFN, order: Int, free: Bool)
    /// Boot could not lay out the allocator (no room for metadata, too many segments).
    case bootFailed(reason: StaticString)
    /// `kfree` of an address the heap never handed out (not in a slab object or large block).
    case heapInvalidFree(address: UInt64)
    /// `kfree` of an object that is already free.
    case heapDoubleFree(address: UInt64)
    /// A slab's free-object list points outside its slab or at a misaligned object.
    case slabCorrupted(address: UInt64, link: UInt64)
    /// A free slab object was written to while free (poison overwritten).
    case slabPoisonOverwritten(address: UInt64, offset: UInt64, found: UInt8)
    /// The heap was used before `SlabHeap` was set up.
    case heapNotReady

    /// Whether the fast path found the state broken (the state may be partly changed and the
    /// kernel halts), rather than the caller misusing the API (nothing changed).
    public var isCorruption: Bool {
        switch self {
        case .corruptedList, .corruptedFrame, .parityMismatch, .slabCorrupted, .slabPoisonOverwritten, .bootFailed:
            return true
        default:
            return false
        }
    }

    /// A short name of the problem, as printed after `kmem: BUG:`.
    public var summary: StaticString {
        switch self {
        case .invalidOrder: return "invalid order"
        case .invalidAlignment: return "invalid alignment"
        case .invalidRange: return "invalid frame range"
        case .freeHeapBlock: return "free of a large heap block (owned by the heap)"
        case .notReferenceable: return "get/put of a frame that is not an allocated block head"
        case .invalidCount: return "invalid frame count"
        case .countMismatch: return "freeCount of a range allocateCount did not hand out"
        case .notReserved: return "unreserve of a frame that is not reserved"
        case .memoryOverlap: return "added memory overlaps memory the allocator has"
        case .tooManySegments: return "added memory needs more segments than the allocator has room for"
        case .parityMismatch: return "parity bitmap disagrees with frame metadata"
        case .outsideManagedMemory: return "address outside managed memory"
        case .doubleFree: return "double free"
        case .wrongOrder: return "free with wrong order"
        case .freeReserved: return "free of reserved frame"
        case .freeSlabPage: return "free of a slab page (owned by the heap)"
        case .notBlockHead: return "free of a frame inside a block"
        case .notAllocated: return "free of a frame that is not allocated"
        case .badRefcount: return "free of a page with bad refcount"
        case .corruptedList: return "corrupted free list"
        case .corruptedFrame: return "corrupted frame metadata"
        case .bootFailed(let reason): return reason
        case .heapInvalidFree: return "kfree of an address the heap did not hand out"
        case .heapDoubleFree: return "kfree of a free object (double free)"
        case .slabCorrupted: return "corrupted slab free list"
        case .slabPoisonOverwritten: return "poison overwritten in free slab object (use after free)"
        case .heapNotReady: return "heap used before it was set up"
        }
    }

    /// The frame the problem is about (`PFN.noFrame` when it is about no frame, or about a heap
    /// address).
    public var pfn: PFN {
        switch self {
        case .invalidOrder, .invalidAlignment, .bootFailed, .invalidCount, .heapNotReady, .heapInvalidFree, .heapDoubleFree,
             .slabCorrupted, .slabPoisonOverwritten:
            return .noFrame  // heap errors name a virtual address, which `write` prints
        case .outsideManagedMemory(let p), .doubleFree(let p), .freeReserved(let p),
             .notBlockHead(let p), .freeSlabPage(let p), .freeHeapBlock(let p), .invalidRange(let p, _): return p
        case .wrongOrder(let p, _, _), .notAllocated(let p, _), .badRefcount(let p, _),
             .corruptedList(let p, _), .corruptedFrame(let p, _), .parityMismatch(let p, _, _),
             .notReferenceable(let p, _), .countMismatch(let p, _), .notReserved(let p, _),
             .memoryOverlap(let p), .tooManySegments(let p):
            return p
        }
    }

    /// Writes `<summary> pfn 0x… (details)` to `out`.
    public func write<S: TextSink>(to out: inout S) {
        out.write(summary)
        switch self {
        case .heapInvalidFree(let a), .heapDoubleFree(let a), .slabCorrupted(let a, _), .slabPoisonOverwritten(let a, _, _):
            out.write(" address "); out.hex(a)
        default:
            if !pfn.isNoFrame { out.write(" pfn "); out.hex(pfn.raw) }
        }
        switch self {
        case .slabCorrupted(_, let link): out.write(" link "); out.hex(link)
        case .slabPoisonOverwritten(_, let off, let b):
            out.write(": byte "); out.hex(UInt64(b)); out.write(" instead of 0x6b at offset "); out.hex(off)
        case .invalidOrder(let o): out.write(" order "); out.dec(UInt64(truncatingIfNeeded: o))
        case .invalidAlignment(let a): out.write(" alignment "); out.dec(a)
        case .wrongOrder(_, let a, let f):
            out.write(" (allocated order "); out.dec(UInt64(a)); out.write(", freed as order ")
            out.dec(UInt64(truncatingIfNeeded: f)); out.write(")")
        case .notAllocated(_, let f), .corruptedFrame(_, let f): out.write(" flags "); out.hex(UInt64(f))
        case .badRefcount(_, let r): out.write(" refcount "); out.dec(UInt64(r))
        case .invalidRange(_, let n), .countMismatch(_, let n), .invalidCount(let n): out.write(" count "); out.dec(n)
        case .notReferenceable(_, let f), .notReserved(_, let f): out.write(" flags "); out.hex(UInt64(f))
        case .parityMismatch(_, let k, let free):
            out.write(" order "); out.dec(UInt64(truncatingIfNeeded: k))
            out.write(free ? " (bit says free, metadata says not)" : " (bit says not free, metadata says free)")
        case .corruptedList(_, let link): out.write(" link "); out.hex(link)
        default: break
        }
    }
}
