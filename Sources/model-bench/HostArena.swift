import AllocatorModel
import Glibc
import KernelLayouts
import KernelMM

/// KernelMM booted over an anonymous host mapping that plays physical memory from address 0,
/// read back the way the CLI reads a guest (layout descriptor, `SnapshotDecoder`), as
/// Tests/ModelDifferentialTests/KernelArena.swift does. The mapping is `managedBytes` plus room
/// for an operation log of `logCapacity` entries, so a long log does not eat the memory the
/// workload runs in (a 1 M-operation log is 128 MiB).
final class HostArena {
    let bytes: Int
    let base: UnsafeMutableRawPointer
    let allocator: PageAllocator

    init(managedBytes: Int, logCapacity: UInt64) throws {
        let logBytes = Int(logCapacity) * MemoryLayout<OpLogEntry>.stride
        bytes = (managedBytes + logBytes + 0xFFFFF) & ~0xFFFFF
        guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            fatalError("mmap of \(bytes) bytes failed")
        }
        base = p
        let regions = [MemoryRegion(base: 0, length: 0x9F000, type: 1), MemoryRegion(base: 0x100000, length: 0x1F00000, type: 1),
                       MemoryRegion(base: 0x2100000, length: UInt64(bytes - 0x2100000), type: 1)]
        var config = BootConfig(directMapOffset: UInt64(UInt(bitPattern: p)))
        config.dma32StartPFN = 0x1000
        config.normalStartPFN = 0x2800
        config.kernel = PhysRange(start: 0x100000, end: 0x400000)
        config.opLogCapacity = logCapacity
        allocator = try regions.withUnsafeBufferPointer { r in
            try PageAllocator.boot(regions: r, reservations: UnsafeBufferPointer(start: nil, count: 0), config: config)
        }
    }

    deinit { munmap(base, bytes) }

    var directMap: UInt64 { UInt64(UInt(bitPattern: base)) }
    var sequence: UInt64 { allocator.state.pointee.sequence }

    /// The host's memory as guest memory: addresses are host pointers.
    struct HostMemory: GuestMemory {
        struct OutOfRange: Error {}
        let base: UInt64
        let bytes: Int
        func read(at address: UInt64, count: Int) throws -> [UInt8] {
            guard address >= base, address - base + UInt64(count) <= UInt64(bytes) else { throw OutOfRange() }
            return [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(address)), count: count))
        }
    }

    /// The layout descriptor, as `kmem_info` publishes it.
    func info() throws -> KernelInfo {
        var sink = Sink()
        allocator.writeLayoutDescriptor(to: &sink)
        var header = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: KernelInfo.magic.littleEndian) { for i in 0..<8 { header[i] = $0[i] } }
        header[8] = 1
        withUnsafeBytes(of: UInt32(sink.bytes.count).littleEndian) { for i in 0..<4 { header[12 + i] = $0[i] } }
        return try KernelInfo(address: 0, header: header, text: sink.bytes)
    }

    /// The allocator's state through the CLI's decoder.
    func snapshot() throws -> KernelSnapshot {
        try SnapshotDecoder(info: try info(), memory: HostMemory(base: directMap, bytes: bytes)).decode()
    }

    /// Log entries after `first − 1` through the current sequence, straight from the ring.
    func log(after start: UInt64) -> [OpLogRecord] {
        guard sequence > start else { return [] }
        return (start + 1...sequence).compactMap { s in
            allocator.logEntry(s).map { e in
                OpLogRecord(sequence: e.sequence, rawKind: e.kind, order: e.order, migratetype: e.migratetype, zone: e.zone,
                            status: e.status, flags: e.flags, alignment: e.alignment, size: e.size, address: e.address,
                            result: e.result, owner: e.owner, parent: e.parent)
            }
        }
    }

    struct Sink: TextSink {
        var bytes: [UInt8] = []
        mutating func put(_ byte: UInt8) { bytes.append(byte) }
    }
}
