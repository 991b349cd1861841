/// What the kernel stopped on, in the 256-byte global `kmem_bug` (boot.S): every path that
/// prints `kmem: BUG: …` fills it once and then halts in `kmem_bug_halt`, so a debugger that
/// attaches afterwards can say which BUG, at which operation, on which frame (kernel/README.md,
/// "A kernel halted at its BUG"). Every field is a u64 before the text, so DWARF's offsets
/// are right (no padding) and the host pins them with `MemoryLayout`.
public struct BugRecord: Sendable {
    /// `BugRecord.magicValue` once written; 0 while the kernel has not stopped at a BUG.
    public var magic: UInt64
    /// A `BugKind` raw value.
    public var kind: UInt64
    /// What within the kind (`KmemError.code`, `FrameMove`, `DebugVMCheck`, a vector, …).
    public var code: UInt64
    /// The frame the BUG names, `Kmem.none` when none.
    public var pfn: UInt64
    /// The allocator operation the BUG is about (0: none).
    public var sequence: UInt64
    /// `KmemState.busy` when the kernel halted: operations left unfinished.
    public var busy: UInt64
    /// The faulting instruction of a CPU exception; 0 otherwise.
    public var rip: UInt64
    /// Kind-specific detail (the frame's flags, an order, an error code, a heap address).
    public var detail: UInt64
    /// More kind-specific detail (the state moved to, CR2, an alignment).
    public var detail2: UInt64
    /// Bytes of `text` used.
    public var textLength: UInt64
    /// The line printed after `kmem: BUG: `, cut at `BugRecord.textCapacity` bytes.
    public var text: InlineArray<176, UInt8>

    /// `"KMEMBUG!"` read as a little-endian u64.
    public static let magicValue: UInt64 = 0x2147_5542_4D45_4D4B
    /// Bytes of `text`.
    public static let textCapacity = 176
    /// Byte offset of `text` in the record (the fields before it are ten u64 words).
    public static let textOffset = 80
}

/// Which halt path wrote a `BugRecord` (its `kind`).
public enum BugKind: UInt64, Sendable, CaseIterable {
    /// API misuse caught before anything changed (a `KmemError`, op-log status `misuse`).
    case misuse = 1
    /// Corruption found on the fast path (a `KmemError`, op-log status `corrupt`).
    case corruption = 2
    /// A frame moved between states the state machine does not allow (`kmem_illegal_move`).
    case illegalMove = 3
    /// A debug-VM check of the buddy arithmetic failed (`kmem_debug_vm_failed`).
    case debugVM = 4
    /// A CPU exception (a fault, or a Swift runtime trap).
    case exception = 5
    /// The Swift runtime's own allocation failed.
    case outOfMemory = 6
    /// The kernel could not boot.
    case boot = 7
    /// A CPU of the workload did not end its turn in time (`code` the waiting CPU, `detail`
    /// the CPU whose turn it was, `detail2` the spins waited).
    case turn = 8

    /// The kind's name as the README's table and the toolkit print it.
    public var name: StaticString {
        switch self {
        case .misuse: return "misuse"
        case .corruption: return "corruption"
        case .illegalMove: return "illegal frame state change"
        case .debugVM: return "debug-vm check"
        case .exception: return "CPU exception"
        case .outOfMemory: return "out of memory"
        case .boot: return "boot"
        case .turn: return "workload turn"
        }
    }
}

extension KmemError {
    /// The record's kind for this error: misuse or corruption, boot for `bootFailed`.
    public var bugKind: BugKind {
        if case .bootFailed = self { return .boot }
        return isCorruption ? .corruption : .misuse
    }
}

extension KmemError {
    /// The error's number in a `BugRecord` (`code`): its case, in declaration order from 1.
    public var code: UInt64 {
        switch self {
        case .invalidOrder: return 1
        case .invalidAlignment: return 2
        case .invalidRange: return 3
        case .outsideManagedMemory: return 4
        case .doubleFree: return 5
        case .wrongOrder: return 6
        case .freeReserved: return 7
        case .freeSlabPage: return 8
        case .freeHeapBlock: return 9
        case .notBlockHead: return 10
        case .notAllocated: return 11
        case .badRefcount: return 12
        case .notReferenceable: return 13
        case .invalidCount: return 14
        case .countMismatch: return 15
        case .notReserved: return 16
        case .memoryOverlap: return 17
        case .tooManySegments: return 18
        case .corruptedList: return 19
        case .corruptedFrame: return 20
        case .parityMismatch: return 21
        case .bootFailed: return 22
        case .heapInvalidFree: return 23
        case .heapDoubleFree: return 24
        case .slabCorrupted: return 25
        case .slabPoisonOverwritten: return 26
        case .heapNotReady: return 27
        }
    }

    /// The heap address a heap error names (0 for the others).
    public var heapAddress: UInt64 {
        switch self {
        case .heapInvalidFree(let a), .heapDoubleFree(let a), .slabCorrupted(let a, _), .slabPoisonOverwritten(let a, _, _): return a
        default: return 0
        }
    }
}

extension PageAllocator {
    /// The operation a `KmemError` that reached the top is about: the newest entry of the
    /// last 64 in the log whose status is misuse or corrupt (nested operations log before
    /// their parent, so that is the innermost that failed); `state.sequence` if none is found.
    public func failedOperation() -> UInt64 {
        let newest = state.pointee.sequence
        let capacity = state.pointee.opLogCapacity
        guard capacity != 0 else { return newest }
        let log = UnsafeMutablePointer<OpLogEntry>(bitPattern: UInt(state.pointee.opLog))!
        var s = newest
        var steps = 0
        while s != 0 && steps < 64 {
            let e = log[Int(ringIndex(s, capacity))]
            if e.sequence == s && (e.status == OpStatus.misuse.rawValue || e.status == OpStatus.corrupt.rawValue) { return s }
            s &-= 1
            steps += 1
        }
        return newest
    }
}
