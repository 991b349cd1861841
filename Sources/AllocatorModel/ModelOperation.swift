import BundledState

/// The arguments of one allocator operation, as the operation log records them.
public enum ModelOperation: Sendable, Equatable {
    case allocate(order: Int, migratetype: Int, zone: Int, alignment: UInt64, owner: UInt64, ignoreWatermarks: Bool)
    case free(pfn: UInt64, order: Int)
    case allocateFrame(pfn: UInt64, migratetype: Int, owner: UInt64)
    case reserveRange(start: UInt64, count: UInt64, owner: UInt64)
    case drainPerCPU(zone: Int, all: Bool)
    case kmalloc(size: UInt64, alignment: UInt64)
    case kfree(address: UInt64)
    case unreserve(start: UInt64, count: UInt64)
    case get(pfn: UInt64)
    case put(pfn: UInt64)
    case allocateCount(count: UInt64, migratetype: Int, zone: Int, alignment: UInt64, owner: UInt64)
    case freeCount(pfn: UInt64, count: UInt64)
    case addMemory(start: UInt64, count: UInt64)

    /// The operation a top-level log entry asks for; nil for a kind that is only ever nested
    /// (quarantine) or unknown.
    public init?(_ r: OpLogRecord) {
        switch r.kind {
        case .allocate:
            self = .allocate(order: Int(r.order), migratetype: Int(r.migratetype), zone: Int(r.zone), alignment: r.alignment,
                             owner: r.owner, ignoreWatermarks: r.flags & 1 != 0)
        case .free: self = .free(pfn: r.address, order: Int(r.order))
        case .allocateFrame: self = .allocateFrame(pfn: r.address, migratetype: Int(r.migratetype), owner: r.owner)
        case .reserveRange: self = .reserveRange(start: r.address, count: r.size, owner: r.owner)
        case .drain: self = .drainPerCPU(zone: Int(r.zone), all: r.order == 1)
        case .heapAllocate: self = .kmalloc(size: r.size, alignment: r.alignment)
        case .heapFree: self = .kfree(address: r.address)
        case .unreserve: self = .unreserve(start: r.address, count: r.size)
        case .get: self = .get(pfn: r.address)
        case .put: self = .put(pfn: r.address)
        case .allocateCount:
            self = .allocateCount(count: r.size, migratetype: Int(r.migratetype), zone: Int(r.zone), alignment: r.alignment, owner: r.owner)
        case .freeCount: self = .freeCount(pfn: r.address, count: r.size)
        case .addMemory: self = .addMemory(start: r.address, count: r.size)
        case .quarantine, nil: return nil
        }
    }
}

extension ModelState {
    /// Runs one top-level operation.
    @discardableResult
    public mutating func apply(_ op: ModelOperation) -> ModelResult {
        switch op {
        case let .allocate(order, mt, zone, alignment, owner, ignore):
            return allocate(order: order, migratetype: mt, zone: zone, alignment: alignment, owner: owner, ignoreWatermarks: ignore)
        case let .free(pfn, order): return free(pfn, order: order)
        case let .allocateFrame(pfn, mt, owner): return allocateFrame(pfn, migratetype: mt, owner: owner)
        case let .reserveRange(start, count, owner): return reserveRange(start: start, count: count, owner: owner)
        case let .drainPerCPU(zone, all): return drainPerCPU(zone: zone, all: all)
        case let .kmalloc(size, alignment): return kmalloc(size: size, alignment: alignment)
        case let .kfree(address): return kfree(address)
        case let .unreserve(start, count): return unreserve(start: start, count: count)
        case let .get(pfn): return get(pfn)
        case let .put(pfn): return put(pfn)
        case let .allocateCount(count, mt, zone, alignment, owner):
            return allocateCount(count, migratetype: mt, zone: zone, alignment: alignment, owner: owner)
        case let .freeCount(pfn, count): return freeCount(pfn, count: count)
        case let .addMemory(start, count): return addMemory(start: start, count: count)
        }
    }

    // MARK: the operation log ("Operation log")

    /// Takes the next sequence number ("takes the next sequence number when it starts").
    /// The next of `plannedSequences` first, when replay planned them.
    mutating func beginOperation() -> UInt64 {
        if let planned = plannedSequences.popFirst() {
            sequence = planned
            return planned
        }
        sequence += 1
        return sequence
    }

    /// Runs `body` as the operation `seq`: operations it starts are nested (their `parent`
    /// is `seq`), and the entry is written when it ends, after theirs.
    mutating func operation(_ seq: UInt64, _ entry: OpLogRecord, _ body: (inout ModelState) -> ModelResult) -> ModelResult {
        let outer = parentSequence
        parentSequence = seq
        let r = body(&self)
        if r.status == .misuse { events.misuses += 1 }
        parentSequence = outer
        var e = entry
        e.status = r.status.rawValue
        e.result = r.value
        e.parent = outer
        if keepsLog { log.append(e) }
        return r
    }

    /// An entry with the common fields set.
    func entry(_ seq: UInt64, _ kind: OpLogRecord.Kind, order: Int = 0, migratetype: Int = 0, zone: Int = 0, flags: UInt8 = 0,
               alignment: UInt64 = 0, size: UInt64 = 0, address: UInt64 = 0, owner: UInt64 = 0) -> OpLogRecord {
        OpLogRecord(sequence: seq, rawKind: kind.rawValue, order: UInt8(truncatingIfNeeded: order),
                    migratetype: UInt8(truncatingIfNeeded: migratetype), zone: UInt8(truncatingIfNeeded: zone), status: 0,
                    flags: flags, alignment: alignment, size: size, address: address, result: .max, owner: owner, parent: 0,
                    cpu: UInt8(truncatingIfNeeded: cpu))
    }
}
