import AllocatorView

/// What a snapshot file says about where its bytes came from: the kernel build, the guest,
/// the moment, the registers, and how kernel-virtual addresses map to physical ones. Stored
/// as `key: value` text lines (readable with `head -c 2000 FILE`); unknown keys are kept.
public struct SnapshotHeader: Sendable, Equatable {
    /// The kmemscope that wrote it (`kmemscope 0.5.0`).
    public var tool = ""
    /// When it was taken (UTC, ISO 8601).
    public var taken = ""
    /// The kernel's GNU build-id, hex.
    public var buildID = ""
    /// The kernel image's path when it was taken.
    public var elf = ""
    /// The address of the layout descriptor (`kmem_info`).
    public var descriptor: UInt64 = 0
    /// The stub it was read through.
    public var target = ""
    /// The memory source the bytes came from.
    public var source = ""
    /// The allocator's operation sequence when it was taken.
    public var sequence: UInt64 = 0
    /// Whether the guest was between two allocator operations (settled).
    public var betweenOperations = false
    /// The boot the state comes from (the descriptor's boot identity), when the kernel
    /// published one; stored as `boot: 0xID 0xCMDLINE_HASH SEED`.
    public var boot: BootIdentity?
    /// The kernel-virtual → physical windows regions were stored through.
    public var windows: [KernelAddressMap.Window] = []
    /// Control and general registers read from the stub (`cr3`, `rip`…), in order.
    public var registers: [(name: String, value: UInt64)] = []
    /// Lines with keys this version does not know, kept as they were.
    public var other: [(key: String, value: String)] = []

    public init() {}

    public static func == (a: SnapshotHeader, b: SnapshotHeader) -> Bool { a.text == b.text }

    /// The register `name`, if the snapshot holds it.
    public func register(_ name: String) -> UInt64? { registers.first { $0.name == name }?.value }

    /// The address map the regions were stored through.
    public var addressMap: KernelAddressMap { KernelAddressMap(windows: windows) }

    /// The header as stored.
    public var text: String {
        func clean(_ s: String) -> String { String(s.map { $0.isNewline ? "?" : $0 }) }
        var lines = ["format: kmemscope snapshot \(SnapshotFormat.version)", "tool: \(clean(tool))", "taken: \(clean(taken))",
                     "build-id: \(clean(buildID))", "elf: \(clean(elf))", "descriptor: \(hex(descriptor))",
                     "target: \(clean(target))", "source: \(clean(source))", "sequence: \(sequence)",
                     "between-operations: \(betweenOperations ? "yes" : "no")"]
        if let boot { lines.append("boot: \(hex(boot.id)) \(hex(boot.commandLineHash)) \(boot.seed)") }
        lines += windows.map { "window: \(hex($0.virtualStart)) \(hex($0.size)) \(hex($0.physicalStart))" }
        lines += registers.map { "register: \(clean($0.name)) \(hex($0.value))" }
        lines += other.map { "\(clean($0.key)): \(clean($0.value))" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses stored header text; `path` names the file in errors.
    public init(text: String, path: String) throws(SnapshotFileError) {
        func number(_ s: Substring) -> UInt64? {
            s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
        }
        func bad(_ line: Substring) -> SnapshotFileError { .damaged(path: path, reason: "header line \(String(line.prefix(80)).debugDescription) is malformed") }
        var sawFormat = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { throw bad(line) }
            let key = line[..<colon]
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            let words = value.split(separator: " ")
            switch key {
            case "format": sawFormat = value.hasPrefix("kmemscope snapshot ")
            case "tool": tool = String(value)
            case "taken": taken = String(value)
            case "build-id": buildID = String(value)
            case "elf": elf = String(value)
            case "descriptor": guard let v = number(value) else { throw bad(line) }; descriptor = v
            case "target": target = String(value)
            case "source": source = String(value)
            case "sequence": guard let v = number(value) else { throw bad(line) }; sequence = v
            case "between-operations": betweenOperations = value == "yes"
            case "boot":
                guard words.count == 3, let id = number(words[0]), let hash = number(words[1]), let seed = number(words[2]) else { throw bad(line) }
                boot = BootIdentity(id: id, commandLineHash: hash, seed: seed)
            case "window":
                guard words.count == 3, let v = number(words[0]), let s = number(words[1]), let p = number(words[2]) else { throw bad(line) }
                windows.append(.init(virtualStart: v, size: s, physicalStart: p))
            case "register":
                guard words.count == 2, let v = number(words[1]) else { throw bad(line) }
                registers.append((String(words[0]), v))
            default: other.append((String(key), String(value)))
            }
        }
        guard sawFormat else { throw .damaged(path: path, reason: "the header has no `format: kmemscope snapshot N` line") }
        guard !buildID.isEmpty else { throw .damaged(path: path, reason: "the header names no build-id") }
    }
}
