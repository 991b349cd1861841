import BundledState
import BundledKernel
import KernelLayouts
import KernelMM

extension HostArena {
    /// The host mapping as guest memory: addresses are host pointers (the descriptor's
    /// addresses and the direct map both point into the arena); a read outside it fails.
    public struct Memory: GuestMemory {
        /// A read that leaves the arena.
        public struct OutOfRange: Error, CustomStringConvertible {
            public let address: UInt64, count: Int
            public var description: String { "read of \(count) bytes at 0x\(String(address, radix: 16)) leaves the arena" }
        }
        public let base: UInt64
        public let bytes: Int
        public init(base: UInt64, bytes: Int) {
            self.base = base
            self.bytes = bytes
        }
        public func read(at address: UInt64, count: Int) throws -> [UInt8] {
            guard count >= 0, address >= base, address - base <= UInt64(bytes),
                  UInt64(count) <= UInt64(bytes) - (address - base) else { throw OutOfRange(address: address, count: count) }
            return [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(address)), count: count))
        }
    }

    /// The arena as guest memory.
    public var memory: Memory { Memory(base: directMap, bytes: bytes) }

    /// `kmem_info` as the kernel publishes it: the 16-byte header (magic, version 1, text
    /// length) and the layout descriptor's text.
    public func descriptorBytes() -> [UInt8] {
        var text = TextCollector()
        allocator.writeLayoutDescriptor(to: &text)
        allocator.writeZoneLockLayout(to: &text)
        allocator.writePerCPULayout(to: &text)
        allocator.writeCPUOperationLayout(to: &text)
        allocator.writePerCPULockLayout(to: &text)
        var header = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: KernelInfo.magic.littleEndian) { for i in 0..<8 { header[i] = $0[i] } }
        header[8] = 1
        withUnsafeBytes(of: UInt32(text.bytes.count).littleEndian) { for i in 0..<4 { header[12 + i] = $0[i] } }
        return header + text.bytes
    }

    /// The layout descriptor, parsed as the CLI parses `kmem_info`.
    public func info() throws -> KernelInfo {
        let d = descriptorBytes()
        return try KernelInfo(address: 0, header: Array(d[0..<16]), text: Array(d[16...]))
    }

    /// The allocator's state through the CLI's decoder.
    public func snapshot() throws -> KernelSnapshot {
        try SnapshotDecoder(info: try info(), memory: memory).decode()
    }

    /// Log entries `first…last` still in the ring, through the CLI's decoder.
    public func log(from first: UInt64, through last: UInt64) throws -> [OpLogRecord] {
        guard last >= first else { return [] }
        return try OpLogDecoder(info: try info(), memory: memory).last(Int(last - first + 1), upTo: last)
    }

    /// One entry straight from the ring (the fast path for per-operation comparison).
    public func entry(_ sequence: UInt64) -> OpLogRecord? {
        guard let e = allocator.logEntry(sequence) else { return nil }
        return OpLogRecord(sequence: e.sequence, rawKind: e.kind, order: e.order, migratetype: e.migratetype, zone: e.zone,
                           status: e.status, flags: e.flags, alignment: e.alignment, size: e.size, address: e.address,
                           result: e.result, owner: e.owner, parent: e.parent, cpu: e.cpu)
    }

    /// Every entry after sequence `start` through the current one still in the ring, straight
    /// from the ring.
    public func entries(after start: UInt64) -> [OpLogRecord] {
        guard sequence > start else { return [] }
        return (start + 1...sequence).compactMap(entry)
    }
}
