import BundledState
import KernelLayouts

/// Reads entries of the kernel's operation log ring (`OPLOG`, `OPLOG_CAPACITY`) through the
/// offsets in `kmem_info`. Entry of sequence s sits at index `s % capacity`; a slot whose
/// sequence differs was overwritten and is skipped.
public struct OpLogDecoder {
    public let info: KernelInfo
    public let memory: any GuestMemory

    public init(info: KernelInfo, memory: any GuestMemory) {
        self.info = info
        self.memory = memory
    }

    /// The `count` most recent entries up to sequence `last`, oldest first.
    public func last(_ count: Int, upTo last: UInt64) throws -> [OpLogRecord] {
        let capacity = try info.number("OPLOG_CAPACITY")
        guard capacity > 0, capacity <= 1 << 24 else {
            throw SnapshotError.implausible(what: "OPLOG_CAPACITY", value: capacity, limit: 1 << 24)
        }
        let size = UInt64(try info.boundedSize(of: "OpLogEntry"))
        let base = try info.number("OPLOG")
        let n = UInt64(max(0, min(count, Int(min(capacity, last)))))
        let hasCPU = info["OFFSET(OpLogEntry.cpu)"] != nil  // kernel/README.md "Per-CPU caches"
        var records: [OpLogRecord] = []
        // Counted, not `while s <= last`: a guest sequence of UInt64.max must not wrap.
        for i in 0..<n {
            let s = last - n + 1 + i
            let bytes = try memory.read(at: base &+ (s % capacity) * size, count: Int(size))
            func field(_ name: String, _ width: Int) throws -> UInt64 {
                let o = try info.boundedOffset(of: "OpLogEntry", name, width: width)
                return littleEndian(bytes[o..<(o + width)])
            }
            let record = OpLogRecord(
                sequence: try field("sequence", 8), rawKind: UInt8(try field("kind", 1)), order: UInt8(try field("order", 1)),
                migratetype: UInt8(try field("migratetype", 1)), zone: UInt8(try field("zone", 1)),
                status: UInt8(try field("status", 1)), flags: UInt8(try field("flags", 1)), alignment: try field("alignment", 8),
                size: try field("size", 8), address: try field("address", 8), result: try field("result", 8),
                owner: try field("owner", 8), parent: try field("parent", 8),
                cpu: hasCPU ? UInt8(try field("cpu", 1)) : 0)
            if record.sequence == s { records.append(record) }
        }
        return records
    }
}
