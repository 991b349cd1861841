import AllocatorModel
import Glibc
import KernelLayouts
import KernelMM

/// KernelMM booted over a host buffer that plays physical memory from address 0 (as
/// Tests/KernelMMTests/Arena.swift does), read back the way the CLI reads a guest: its layout
/// descriptor through `KernelInfo`, its state through `SnapshotDecoder`, its log through
/// `OpLogDecoder`, all over a `GuestMemory` of the host's own address space.
final class KernelArena {
    let bytes: Int
    let base: UnsafeMutableRawPointer
    let allocator: PageAllocator
    let regions: [MemoryRegion]

    /// 6 MiB with a hole at [3M, 3.25M): DMA < 1.5 MiB ≤ DMA32 < 4 MiB ≤ Normal (as the
    /// KernelMM property tests), so all three zones and several segments exist.
    static let smallRegions: [MemoryRegion] = [
        MemoryRegion(base: 0, length: 0x9F000, type: 1),
        MemoryRegion(base: 0x100000, length: 0x200000, type: 1),
        MemoryRegion(base: 0x340000, length: 0x2C0000, type: 1),
    ]

    /// 24 MiB with holes and reservations (KernelMMTests' default map): pageblocks of order 9
    /// and blocks up to order 11 exist.
    static let largeRegions: [MemoryRegion] = [
        MemoryRegion(base: 0, length: 0x9F000, type: 1),
        MemoryRegion(base: 0x9F000, length: 0x61000, type: 2),
        MemoryRegion(base: 0x100000, length: 0x500000, type: 1),
        MemoryRegion(base: 0x680000, length: 0x780000, type: 1),
        MemoryRegion(base: 0xE00000, length: 0x100000, type: 2),
        MemoryRegion(base: 0xF00000, length: 0x900000, type: 1),
    ]

    /// RAM held back for a hot-add (`hotadd=`) in each map: it straddles the DMA32/Normal limit,
    /// so adding it makes two segments.
    static func heldBack(large: Bool) -> PhysRange {
        large ? PhysRange(start: 0xB0_0000, end: 0xD0_0000) : PhysRange(start: 0x3C_0000, end: 0x48_0000)
    }

    init(large: Bool = false, poison: Bool = false, opLogCapacity: UInt64? = nil, hotAdd: Bool = false) throws {
        regions = large ? Self.largeRegions : Self.smallRegions
        bytes = large ? 24 << 20 : 6 << 20
        guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            fatalError("mmap of \(bytes) bytes failed")
        }
        base = p
        var config = BootConfig(directMapOffset: UInt64(UInt(bitPattern: p)))
        config.dma32StartPFN = large ? 0x400 : 0x180
        config.normalStartPFN = large ? 0xC00 : 0x400
        config.kernel = PhysRange(start: 0x100000, end: 0x140000)
        config.poison = poison
        config.opLogCapacity = opLogCapacity ?? (large ? 65536 : 8192)
        if hotAdd { config.heldBack = Self.heldBack(large: large) }
        allocator = try regions.withUnsafeBufferPointer { r in
            try PageAllocator.boot(regions: r, reservations: UnsafeBufferPointer(start: nil, count: 0), config: config)
        }
    }

    deinit { munmap(base, bytes) }

    var directMap: UInt64 { UInt64(UInt(bitPattern: base)) }
    var sequence: UInt64 { allocator.state.pointee.sequence }

    /// The host's memory as guest memory: addresses are host pointers (the descriptor's
    /// addresses and the direct map both point into the arena).
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

    /// Every managed frame, segment by segment.
    var managedFrames: [UInt64] {
        (0..<allocator.segmentCount).flatMap { i -> [UInt64] in
            let s = allocator.segment(i).pointee
            return Array(s.startPFN..<s.endPFN)
        }
    }

    /// The allocator's state through the CLI's decoder.
    func snapshot() throws -> KernelSnapshot {
        try SnapshotDecoder(info: try info(), memory: HostMemory(base: directMap, bytes: bytes)).decode()
    }

    /// Log entries `from…through` still in the ring, through the CLI's decoder.
    func log(from first: UInt64, through last: UInt64) throws -> [OpLogRecord] {
        guard last >= first else { return [] }
        return try OpLogDecoder(info: try info(), memory: HostMemory(base: directMap, bytes: bytes))
            .last(Int(last - first + 1), upTo: last)
    }

    /// One entry straight from the ring (fast path for per-operation comparison).
    func entry(_ seq: UInt64) -> OpLogRecord? {
        guard let e = allocator.logEntry(seq) else { return nil }
        return OpLogRecord(sequence: e.sequence, rawKind: e.kind, order: e.order, migratetype: e.migratetype, zone: e.zone,
                           status: e.status, flags: e.flags, alignment: e.alignment, size: e.size, address: e.address,
                           result: e.result, owner: e.owner, parent: e.parent)
    }

    /// Overwrites byte `offset` of frame `pfn` (a free page's poison pattern).
    func scribble(_ pfn: UInt64, offset: UInt64, byte: UInt8) {
        base.storeBytes(of: byte, toByteOffset: Int(pfn * 4096 + offset), as: UInt8.self)
    }

    /// The self-check's verdict.
    var selfCheckPassed: Bool { allocator.selfCheck().passed }

    struct Sink: TextSink {
        var bytes: [UInt8] = []
        mutating func put(_ byte: UInt8) { bytes.append(byte) }
    }
}
