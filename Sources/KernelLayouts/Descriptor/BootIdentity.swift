/// Which boot a descriptor (and so a snapshot) comes from: the last lines of `kmem_info`
/// (kernel/README.md, "Boot identity"). `BOOT_ID` is random per boot; `CMDLINE_HASH` and
/// `SEED` say which deterministic run the boot ran.
public struct BootIdentity: Sendable, Equatable {
    /// Random per boot, never 0.
    public var id: UInt64
    /// FNV-1a (64-bit) of the kernel command line.
    public var commandLineHash: UInt64
    /// The workload's seed.
    public var seed: UInt64

    public init(id: UInt64, commandLineHash: UInt64, seed: UInt64) {
        self.id = id
        self.commandLineHash = commandLineHash
        self.seed = seed
    }

    /// The descriptor keys that carry it. Run-time values: the ELF's initial copy of
    /// `kmem_info` is empty, so they are never compared with it.
    public static let descriptorKeys = ["BOOT_ID", "CMDLINE_HASH", "SEED"]

    /// How it is printed: `boot 0x…` (and the command line's hash and seed).
    public var description: String {
        "boot 0x\(String(id, radix: 16)) (command line 0x\(String(commandLineHash, radix: 16)), seed \(seed))"
    }

    /// Whether two states can be compared as moments of one run.
    public enum Relation: Sendable, Equatable {
        /// The same boot.
        case sameBoot
        /// Two boots of the same command line (so the same deterministic run).
        case sameRun
        /// Two boots of different command lines: not one run.
        case differentRuns
        /// One of them carries no identity (an older kernel): it cannot be checked.
        case unknown
    }

    /// How `a` and `b` relate (`.unknown` when either is nil).
    public static func relation(_ a: BootIdentity?, _ b: BootIdentity?) -> Relation {
        guard let a, let b else { return .unknown }
        if a.id == b.id { return .sameBoot }
        return a.commandLineHash == b.commandLineHash && a.seed == b.seed ? .sameRun : .differentRuns
    }
}

extension KernelInfo {
    /// The boot this descriptor was published by; nil for a kernel that publishes none (or a
    /// malformed value: guest data is untrusted, and this only ever narrows a comparison).
    public var bootIdentity: BootIdentity? {
        guard let id = try? number("BOOT_ID"), id != 0, let hash = try? number("CMDLINE_HASH"),
              let seed = try? number("SEED") else { return nil }
        return BootIdentity(id: id, commandLineHash: hash, seed: seed)
    }
}
