/// The invariants `Verifier` checks, each with a stable name the CLI prints and accepts.
/// They restate the allocator contract (kernel/README.md) independently of the kernel's own
/// self-check, from a snapshot.
public enum Check: String, CaseIterable, Sendable, Codable {
    case tiling = "tiling"
    case blockAlignment = "block-alignment"
    case interiorHead = "interior-head"
    case refcount = "refcount"
    case freeListLinks = "free-list-links"
    case freeListEntry = "free-list-entry"
    case freeListMembership = "free-list-membership"
    case unusedList = "unused-list"
    case coalescible = "coalescible-buddies"
    case counters = "counters"
    case perCPU = "pcp-lists"
    case parity = "parity-bitmap"
    case allocBitmap = "alloc-bitmap"
    case pageblockTags = "pageblock-tags"
    case slabStructure = "slab-structure"
    case slabPoison = "slab-poison"
    case zoneParameters = "zone-parameters"
    case frameFields = "frame-fields"
    case stateFields = "state-fields"
    case freePagePoison = "free-page-poison"

    /// One line on what the check asserts.
    public var summary: String {
        switch self {
        case .tiling: return "every managed frame is in exactly one free, allocated, reserved or per-CPU-cached state, inside a block of its segment"
        case .blockAlignment: return "every block head is aligned to its order and the block fits its segment"
        case .interiorHead: return "no frame inside a block carries the head flag"
        case .refcount: return "allocated heads hold at least one reference, every other frame 0"
        case .freeListLinks: return "free-list links stay in the segment, point back (prev), and end (no cycle)"
        case .freeListEntry: return "every free-list node is a free head of the list's order and migratetype"
        case .freeListMembership: return "every free block is on exactly one list"
        case .unusedList: return "lists of unused migratetype slots are empty"
        case .coalescible: return "no free block has a free buddy of the same order in its segment"
        case .counters: return "segment and zone counters and list counts equal what the lists and frames say"
        case .perCPU: return "per-CPU lists hold cached frames of their zone, linked both ways, matching their counts"
        case .parity: return "each parity bit equals (left buddy is a free head) XOR (right buddy is a free head)"
        case .allocBitmap: return "the allocation bitmap is 1 exactly for allocated and reserved frames"
        case .pageblockTags: return "pageblock tags are valid migratetypes and every free block's pageblocks carry its migratetype"
        case .slabStructure: return "slab lists hold SLAB pages of their cache; in-page free lists stay in their slab, end, and match the counters"
        case .slabPoison: return "free slab objects still hold the poison after their link (no write after free)"
        case .zoneParameters: return "watermarks, lowmem reserve and per-CPU batch/high follow the contract's formulas; span, present and managed agree with the segments"
        case .frameFields: return "every managed frame names its segment's zone and no operation after the current sequence; frames outside every segment are holes or boot reservations"
        case .freePagePoison: return "with page poisoning on, every free or per-CPU-cached page still holds the poison (0xAA) in all its bytes: no write after free (read only with verify --free-page-poison)"
        case .stateFields: return "KmemState's copies equal the descriptor, no parent operation and no zone, heap or per-CPU cache lock held between operations, zones and segments carry their own index, the heap's large-block totals equal the frames"
        }
    }
}

/// One broken invariant: which, where, what was expected and what was found.
public struct Violation: Sendable, Equatable, Codable {
    public var check: Check
    public var zone: String?
    /// The slab cache, for heap checks.
    public var cache: String?
    public var segment: Int?
    public var pfn: UInt64?
    public var expected: String
    public var found: String

    public init(_ check: Check, zone: String? = nil, cache: String? = nil, segment: Int? = nil, pfn: UInt64? = nil,
                expected: String, found: String) {
        self.check = check
        self.zone = zone
        self.cache = cache
        self.segment = segment
        self.pfn = pfn
        self.expected = expected
        self.found = found
    }

    /// `check [zone Z] [cache C] [segment S] [pfn 0x…]: expected …, found …`
    public var text: String {
        var where_ = ""
        if let zone { where_ += " zone \(zone)" }
        if let cache { where_ += " cache \(cache)" }
        if let segment { where_ += " segment \(segment)" }
        if let pfn { where_ += " pfn 0x\(String(pfn, radix: 16))" }
        return "\(check.rawValue)\(where_): expected \(expected), found \(found)"
    }
}
