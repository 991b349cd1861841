/// The kernel's own invariant checks, by stable name. The toolkit's AllocatorModel checks
/// the same contract independently, from a snapshot.
public enum SelfCheck: UInt8, Sendable, CaseIterable {
    /// Every managed frame is in exactly one free, allocated, reserved or cached block, and
    /// belongs to its segment.
    case tiling = 0
    /// Every block head is aligned to its order and the block lies inside its segment.
    case blockAlignment
    /// No interior frame of a block carries HEAD.
    case interiorHead
    /// No free block has a free buddy of the same order in the same segment.
    case coalescible
    /// Allocation bit is 1 exactly for allocated and reserved frames.
    case allocBitmap
    /// Free-list links are in range, point back, and lists end (no cycles).
    case freeListLinks
    /// Every list node is a free head of the list's order and migratetype.
    case freeListEntry
    /// Free heads found by tiling equal list nodes, per order; list counts equal walks.
    case freeListMembership
    /// Lists of unused migratetype slots are empty.
    case unusedList
    /// Each parity bit equals (left buddy free head) XOR (right buddy free head).
    case parity
    /// Segment and zone counters equal what the lists and frames say.
    case counters
    /// Per-CPU lists are well linked, hold PCP frames of their zone, and match their counts.
    case perCPU
    /// Pageblock tags are valid migratetypes and agree with free blocks on them.
    case pageblockTags
    /// Allocated heads have refcount 1, all other frames 0.
    case refcount
    /// Slab caches: partial/full lists well linked, slab pages tagged SLAB with their cache,
    /// in-page free lists inside their slab and acyclic, counters equal what the slabs say.
    case slab
    /// Free slab objects still hold the poison pattern (no write after free).
    case slabPoison

    /// Stable name, as the toolkit prints it.
    public var name: StaticString {
        switch self {
        case .tiling: return "tiling"
        case .blockAlignment: return "block-alignment"
        case .interiorHead: return "interior-head"
        case .coalescible: return "coalescible-buddies"
        case .allocBitmap: return "alloc-bitmap"
        case .freeListLinks: return "free-list-links"
        case .freeListEntry: return "free-list-entry"
        case .freeListMembership: return "free-list-membership"
        case .unusedList: return "unused-list"
        case .parity: return "parity-bitmap"
        case .counters: return "counters"
        case .perCPU: return "pcp-lists"
        case .pageblockTags: return "pageblock-tags"
        case .refcount: return "refcount"
        case .slab: return "slab-structure"
        case .slabPoison: return "slab-poison"
        }
    }
}

/// One violation: which check, where, what was expected and found.
public struct SelfCheckViolation: Sendable {
    public var check: SelfCheck
    public var pfn: PFN
    public var expected: UInt64
    public var found: UInt64
}

/// Result of `PageAllocator.selfCheck()`: a count and the first few violations.
public struct SelfCheckReport: Sendable {
    /// Violations found.
    public var count: UInt64 = 0
    /// Frames visited by the tiling walk.
    public var framesChecked: UInt64 = 0
    /// The first `recordedCount` violations.
    public var recorded: InlineArray<8, SelfCheckViolation> =
        .init(repeating: SelfCheckViolation(check: .tiling, pfn: PFN(0), expected: 0, found: 0))
    public var recordedCount = 0
    /// Bit `SelfCheck.rawValue` is set for every check that fired (recorded or not).
    public var firedMask: UInt32 = 0

    /// Whether `check` fired.
    public func fired(_ check: SelfCheck) -> Bool { firedMask & (1 << UInt32(check.rawValue)) != 0 }

    /// Whether no violation was found.
    public var passed: Bool { count == 0 }

    mutating func fail(_ check: SelfCheck, _ pfn: PFN, expected: UInt64 = 0, found: UInt64 = 0) {
        if recordedCount < 8 {
            recorded[recordedCount] = SelfCheckViolation(check: check, pfn: pfn, expected: expected, found: found)
            recordedCount += 1
        }
        count &+= 1
        firedMask |= 1 << UInt32(check.rawValue)
    }

    /// Writes `self-check: ok (N frames)` or the count and each recorded violation.
    public func write<S: TextSink>(to out: inout S) {
        if passed {
            out.write("kmem: self-check: ok ("); out.dec(framesChecked); out.write(" frames)"); out.newline()
            return
        }
        out.write("kmem: self-check: FAILED, "); out.dec(count); out.write(" violations:")
        var raw: UInt8 = 0
        while let c = SelfCheck(rawValue: raw) {
            if fired(c) { out.put(32); out.write(c.name) }
            raw += 1
        }
        out.newline()
        for i in 0..<recordedCount {
            let v = recorded[i]
            out.write("kmem:   "); out.write(v.check.name); out.write(" pfn "); out.hex(v.pfn.raw)
            out.write(" expected "); out.hex(v.expected); out.write(" found "); out.hex(v.found); out.newline()
        }
    }
}
