import AllocatorView

/// One entry of the kernel's operation log, decoded.
public struct OpLogRecord: Sendable, Equatable, Codable {
    /// What kind of operation (the kernel's `OpKind`).
    public enum Kind: UInt8, Sendable, Codable {
        case allocate = 1, free, allocateFrame, reserveRange, heapAllocate, heapFree, drain
        case quarantine, get, put, allocateCount, freeCount, unreserve, addMemory

        public var name: String {
            switch self {
            case .allocate: return "allocate"
            case .free: return "free"
            case .allocateFrame: return "allocate-frame"
            case .reserveRange: return "reserve"
            case .heapAllocate: return "kmalloc"
            case .heapFree: return "kfree"
            case .drain: return "drain-pcp"
            case .quarantine: return "quarantine"
            case .get: return "get"
            case .put: return "put"
            case .allocateCount: return "allocate-count"
            case .freeCount: return "free-count"
            case .unreserve: return "unreserve"
            case .addMemory: return "add-memory"
            }
        }
    }

    public var sequence: UInt64
    public var kind: Kind?
    public var rawKind: UInt8
    public var order: UInt8
    public var migratetype: UInt8
    public var zone: UInt8
    /// 0 ok, 1 failed (no memory, busy), 2 misuse (nothing changed), 3 corrupt (the kernel
    /// found its state broken and halted).
    public var status: UInt8
    public var flags: UInt8
    public var alignment: UInt64
    public var size: UInt64
    public var address: UInt64
    public var result: UInt64
    public var owner: UInt64
    public var parent: UInt64
    /// The CPU that ran the operation (kernel/README.md "Per-CPU caches"; 0 from a kernel
    /// that does not publish `OFFSET(OpLogEntry.cpu)`).
    public var cpu: UInt8

    public init(sequence: UInt64, rawKind: UInt8, order: UInt8, migratetype: UInt8, zone: UInt8, status: UInt8, flags: UInt8,
                alignment: UInt64, size: UInt64, address: UInt64, result: UInt64, owner: UInt64, parent: UInt64, cpu: UInt8 = 0) {
        self.sequence = sequence
        self.kind = Kind(rawValue: rawKind)
        self.rawKind = rawKind
        self.order = order
        self.migratetype = migratetype
        self.zone = zone
        self.status = status
        self.flags = flags
        self.alignment = alignment
        self.size = size
        self.address = address
        self.result = result
        self.owner = owner
        self.parent = parent
        self.cpu = cpu
    }

    /// One line: `seq N kind arguments → result status [inside M]`.
    public var text: String {
        let mt = migratetype == 0 ? "unmovable" : migratetype == 1 ? "movable" : "mt\(migratetype)"
        let zones = ["dma", "dma32", "any"]
        let args: String
        switch kind {
        case .allocate:
            args = "order \(order) \(mt) zone \(Int(zone) < zones.count ? zones[Int(zone)] : "\(zone)") align \(alignment)"
                + (flags & 1 != 0 ? " no-watermarks" : "") + " owner \(hexOrNone(owner)) -> pfn \(hexOrNone(result))"
        case .free: args = "pfn \(hexOrNone(address)) order \(order)"
        case .allocateFrame: args = "pfn \(hexOrNone(address)) \(mt) -> \(result == 1 ? "claimed" : "busy")"
        case .reserveRange: args = "pfn \(hexOrNone(address)) count \(size) -> \(result == 1 ? "reserved" : "busy")"
        case .heapAllocate: args = "size \(size) align \(alignment) -> \(hexOrNone(result))"
        case .heapFree: args = "\(hexOrNone(address))"
        case .drain: args = "zone \(zone)\(order == 1 ? " all" : "")"
        case .quarantine: args = "pfn \(hexOrNone(address)): byte \(hexOrNone(result)) at offset \(size)"
        case .get, .put: args = "pfn \(hexOrNone(address)) -> refcount \(result == .max ? "none" : String(result))"
        case .allocateCount:
            args = "count \(size) (order \(order)) \(mt) zone \(Int(zone) < zones.count ? zones[Int(zone)] : "\(zone)") align \(alignment)"
                + " owner \(hexOrNone(owner)) -> pfn \(hexOrNone(result))"
        case .freeCount: args = "pfn \(hexOrNone(address)) count \(size)"
        case .unreserve: args = "pfn \(hexOrNone(address)) count \(size)"
        case .addMemory: args = "pfn \(hexOrNone(address)) count \(size) -> \(result) segment(s)"
        case nil: args = "unknown kind \(rawKind)"
        }
        let outcome = ["ok", "failed", "MISUSE", "CORRUPT"]
        return "seq \(sequence) cpu \(cpu) \(kind?.name ?? "?") \(args) \(Int(status) < outcome.count ? outcome[Int(status)] : "status \(status)")"
            + (parent != 0 ? " (inside \(parent))" : "")
    }
}
