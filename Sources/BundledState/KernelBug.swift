/// What the bundled kernel stopped on: its BUG record (`kmem_bug`, kernel/README.md "A kernel
/// halted at its BUG"), decoded. A snapshot with one is a post-mortem of a halted kernel: the
/// guest cannot run on, and what the operation in progress left half done is in the state.
public struct KernelBug: Sendable, Equatable {
    /// Which halt path wrote the record.
    public enum Kind: UInt64, Sendable, CaseIterable {
        case misuse = 1, corruption, illegalMove, debugVM, exception, outOfMemory, boot, turn

        /// The README's name of the kind.
        public var name: String {
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

    /// The record's kind; nil for a value this toolkit does not know (a newer kernel).
    public var kind: Kind?
    /// The kind as the record holds it.
    public var rawKind: UInt64
    /// What within the kind (`KmemError.code`, `FrameMove`, `DebugVMCheck`, a vector …).
    public var code: UInt64
    /// The frame it names; nil when none.
    public var pfn: UInt64?
    /// The operation it is about (0: none).
    public var sequence: UInt64
    /// Operations left in progress when it halted (0: every operation ended first).
    public var busy: UInt64
    /// The faulting instruction of a CPU exception; 0 otherwise.
    public var rip: UInt64
    /// Kind-specific details (kernel/README.md's table).
    public var detail: UInt64
    public var detail2: UInt64
    /// The line the kernel printed after `kmem: BUG: `.
    public var text: String
    /// Whether the CPU was seen halted in `kmem_bug_halt` (RIP inside it); nil when not looked at.
    public var haltedAtBugHalt: Bool?

    public init(rawKind: UInt64, code: UInt64, pfn: UInt64?, sequence: UInt64, busy: UInt64, rip: UInt64 = 0,
                detail: UInt64 = 0, detail2: UInt64 = 0, text: String) {
        self.kind = Kind(rawValue: rawKind)
        self.rawKind = rawKind
        self.code = code
        self.pfn = pfn
        self.sequence = sequence
        self.busy = busy
        self.rip = rip
        self.detail = detail
        self.detail2 = detail2
        self.text = text
    }

    /// Whether the operation it is about was still running when the kernel halted: its log
    /// entry is not written and its work is unfinished (illegal moves, debug-VM checks, faults
    /// inside an operation).
    public var operationInProgress: Bool { busy != 0 && sequence != 0 }

    /// Whether the kernel's own check found the state broken (everything but a misuse it
    /// refused before changing anything).
    public var isCorruption: Bool { kind != .misuse }

    /// `BUG (corruption): corrupted free list pfn 0x… link 0x…`.
    public var headline: String { "BUG (\(kind?.name ?? "kind \(rawKind)")): \(text)" }

    /// One line: which BUG, at which operation, on which frame.
    public var summary: String {
        var s = "post-mortem of a halted kernel: it stopped at its own " + headline
        if sequence != 0 {
            s += operationInProgress
                ? "; inside operation \(sequence), which had not finished (busy \(busy); no log entry yet)"
                : "; at operation \(sequence) (logged as \(kind == .misuse ? "misuse: nothing changed" : kind == .outOfMemory ? "failed" : "corrupt"))"
        }
        if let pfn { s += "; frame 0x" + String(pfn, radix: 16) }
        if rip != 0 { s += "; rip 0x" + String(rip, radix: 16) }
        if haltedAtBugHalt == true { s += "; the CPU is halted in kmem_bug_halt" }
        return s + ". The guest cannot run on: it stays halted."
    }
}
