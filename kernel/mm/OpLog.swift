/// What an operation-log entry records.
public enum OpKind: UInt8, Sendable {
    /// `allocate`: order, migratetype, zone constraint, alignment, owner → PFN.
    case allocate = 1
    /// `free`: PFN, order.
    case free = 2
    /// `allocateFrame`: PFN → 1 claimed / 0 busy.
    case allocateFrame = 3
    /// `reserveRange`: PFN, count (in `size`) → 1 reserved / 0 busy.
    case reserveRange = 4
    /// `kmalloc`: size, alignment (bytes) → address.
    case heapAllocate = 5
    /// `kfree`: address.
    case heapFree = 6
    /// `drainPerCPU`: zone (in `zone`), all (in `order`).
    case drain = 7
    /// A frame taken out of use because its poison pattern was overwritten (always nested in
    /// the operation that was about to hand it out): PFN, offset of the first bad byte (in
    /// `size`) → that byte.
    case quarantine = 8
    /// `get`: PFN → refcount after.
    case get = 9
    /// `put`: PFN → refcount after (0: the block was freed).
    case put = 10
    /// `allocateCount`: count (in `size`), order of the block, alignment (pages), migratetype,
    /// zone constraint, owner → PFN.
    case allocateCount = 11
    /// `freeCount`: PFN, count (in `size`).
    case freeCount = 12
    /// `unreserve`: first PFN, count (in `size`).
    case unreserve = 13
    /// `addMemory` (hot-add): first PFN, count (in `size`) → segments added.
    case addMemory = 14
}

/// Outcome of an operation.
public enum OpStatus: UInt8, Sendable {
    /// Done: `result` holds the PFN, address or 1.
    case ok = 0
    /// Nothing to give (no memory, frame busy): `result` is `Kmem.none` or 0.
    case failed = 1
    /// Misuse was detected (`KmemError`); nothing changed.
    case misuse = 2
    /// Corruption was found on the way (`KmemError.isCorruption`): the kernel halts.
    case corrupt = 3
}

/// One entry of the operation log: 64 bytes, in a ring indexed by `sequence % capacity`.
public struct OpLogEntry: Sendable {
    /// Sequence number of the operation (0 = empty slot).
    public var sequence: UInt64          // 0
    /// `OpKind`.
    public var kind: UInt8               // 8
    /// Order (page operations).
    public var order: UInt8              // 9
    /// `Migratetype`.
    public var migratetype: UInt8        // 10
    /// `ZoneConstraint` (allocate), zone index (drain).
    public var zone: UInt8               // 11
    /// `OpStatus`.
    public var status: UInt8             // 12
    /// Bit 0: watermarks ignored.
    public var flags: UInt8              // 13
    /// The CPU that ran the operation (its per-CPU caches were the ones used; the byte was
    /// padding before, so at `-smp 1` every entry is as it was).
    public var cpu: UInt8                // 14
    public var _pad: UInt8               // 15
    /// Alignment: pages for `allocate`, bytes for `kmalloc`.
    public var alignment: UInt64         // 16
    /// Bytes for `kmalloc`, frames for `reserveRange`.
    public var size: UInt64              // 24
    /// Argument: the PFN (free, allocateFrame, reserveRange) or address (kfree).
    public var address: UInt64           // 32
    /// Result: PFN or address given, 1/0 for claims, `Kmem.none` when nothing.
    public var result: UInt64            // 40
    /// Owner tag of the request.
    public var owner: UInt64             // 48
    /// Sequence number of the operation this one ran inside (a slab page for `kmalloc`), 0 if none.
    public var parent: UInt64            // 56
}

extension PageAllocator {
    /// The fields of a log entry that describe the request, filled before it runs.
    struct OpArguments {
        var order: Int = 0
        var migratetype: UInt8 = 0
        var zone: UInt8 = 0
        var flags: UInt8 = 0
        var alignment: UInt64 = 0
        var size: UInt64 = 0
        var address: UInt64 = 0
        var owner: UInt64 = 0
    }

    /// Runs one operation as the log and the debugger see it: takes the next sequence number
    /// (atomically: kernel/README.md "Operation log"), counts it in the running CPU's `busy`, makes it the parent of operations nested in `body`, then writes
    /// its entry — status and result from `outcome` of the value, or `misuse`/`corrupt` for
    /// an error, which it rethrows — and calls `kmem_op_end` when the CPU's `busy` returns to 0.
    @inline(__always)
    func logged<T>(_ kind: OpKind, _ args: OpArguments, _ body: (UInt64) throws(KmemError) -> T,
                   outcome: (T) -> (OpStatus, UInt64)) throws(KmemError) -> T {
        let op = cpuOperation
        let seq = beginOperation(op)
        let parent = op.pointee.parentSequence
        op.pointee.parentSequence = seq
        do {
            let value = try body(seq)
            op.pointee.parentSequence = parent
            let (status, result) = outcome(value)
            record(seq, kind, status: status, args, result: result)
            leaveBusy(op)
            return value
        } catch {
            op.pointee.parentSequence = parent
            record(seq, kind, status: error.isCorruption ? .corrupt : .misuse, args, result: Kmem.none)
            leaveBusy(op)
            throw error
        }
    }

    func record(_ sequence: UInt64, _ kind: OpKind, status: OpStatus, _ a: OpArguments, result: UInt64) {
        record(sequence, kind, status: status, order: a.order, migratetype: a.migratetype, zone: a.zone, flags: a.flags,
               alignment: a.alignment, size: a.size, address: a.address, result: result, owner: a.owner)
    }

    /// Writes the log entry of operation `sequence` (no-op when the log has no capacity).
    func record(_ sequence: UInt64, _ kind: OpKind, status: OpStatus, order: Int = 0,
                migratetype: UInt8 = 0, zone: UInt8 = 0, flags: UInt8 = 0, alignment: UInt64 = 0,
                size: UInt64 = 0, address: UInt64 = 0, result: UInt64 = Kmem.none, owner: UInt64 = 0) {
        let capacity = state.pointee.opLogCapacity
        guard capacity != 0 else { return }
        let log = UnsafeMutablePointer<OpLogEntry>(bitPattern: UInt(state.pointee.opLog))!
        let cpu = currentCPU
        log[Int(ringIndex(sequence, capacity))] = OpLogEntry(
            sequence: sequence, kind: kind.rawValue, order: UInt8(truncatingIfNeeded: order),
            migratetype: migratetype, zone: zone, status: status.rawValue, flags: flags,
            cpu: UInt8(truncatingIfNeeded: cpu), _pad: 0,
            alignment: alignment, size: size, address: address, result: result, owner: owner,
            parent: cpuOperation(cpu).pointee.parentSequence)
    }

    /// The entry for `sequence`, if it is still in the ring.
    public func logEntry(_ sequence: UInt64) -> OpLogEntry? {
        let capacity = state.pointee.opLogCapacity
        guard capacity != 0 else { return nil }
        let e = UnsafeMutablePointer<OpLogEntry>(bitPattern: UInt(state.pointee.opLog))![Int(ringIndex(sequence, capacity))]
        return e.sequence == sequence ? e : nil
    }

    /// `sequence % capacity`, as a mask when the capacity is a power of two (the kernel's
    /// 65,536): a 64-bit division costs more than the rest of a per-CPU cache hit.
    @inline(__always)
    func ringIndex(_ sequence: UInt64, _ capacity: UInt64) -> UInt64 {
        capacity & (capacity &- 1) == 0 ? sequence & (capacity &- 1) : sequence % capacity
    }
}
