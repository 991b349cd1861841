import BundledState
import BundledKernel
import KernelLayouts

/// Guest memory with one range read ahead in a single pipelined request (the operation-log
/// ring: 65,536 entries of 64 bytes), so decoders that read entry by entry do not pay a
/// round trip per entry. Reads outside the range go to `memory`.
struct CachedRange: GuestMemory {
    let memory: any GuestMemory
    let base: UInt64
    let bytes: [UInt8]

    init(_ memory: any GuestMemory, base: UInt64, count: Int) throws {
        self.memory = memory
        self.base = base
        bytes = try memory.read(at: base, count: count)
    }

    func read(at address: UInt64, count: Int) throws -> [UInt8] {
        if address >= base, count >= 0, address &- base <= UInt64(bytes.count), UInt64(bytes.count) - (address &- base) >= UInt64(count) {
            let start = Int(address &- base)
            return Array(bytes[start..<(start + count)])
        }
        return try memory.read(at: address, count: count)
    }
}

extension OpLogDecoder {
    /// The whole ring up to `sequence` (the entries it still holds), oldest first, read in one
    /// pipelined request.
    static func ring(info: KernelInfo, memory: any GuestMemory, upTo sequence: UInt64) throws -> [OpLogRecord] {
        let capacity = try info.number("OPLOG_CAPACITY")
        let size = try info.size(of: "OpLogEntry")
        guard capacity > 0, capacity <= 1 << 20, size > 0, size <= 256 else {
            return try OpLogDecoder(info: info, memory: memory).last(Int(min(capacity, 1 << 16)), upTo: sequence)
        }
        let cached = try CachedRange(memory, base: try info.number("OPLOG"), count: Int(capacity * size))
        return try OpLogDecoder(info: info, memory: cached).last(Int(min(capacity, sequence)), upTo: sequence)
    }
}
