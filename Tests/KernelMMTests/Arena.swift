import Glibc
import KernelMM

/// A private allocator over a host buffer that plays physical memory from address 0, with
/// a memory map that has holes and zone limits scaled down so all three zones exist.
final class Arena {
    let bytes: Int
    let base: UnsafeMutableRawPointer
    let allocator: PageAllocator
    let regions: [MemoryRegion]

    /// The default map: 24 MiB of "physical memory".
    ///   [0, 0x9f000) usable, [0x9f000, 1M) reserved (firmware), [1M, 6M) usable,
    ///   [6M, 6.5M) hole, [6.5M, 14M) usable, [14M, 15M) reserved, [15M, 24M) usable.
    /// Zones: DMA below 4 MiB, DMA32 below 12 MiB, Normal above. Kernel image at [1M, 1.25M).
    static let defaultRegions: [MemoryRegion] = [
        MemoryRegion(base: 0, length: 0x9F000, type: 1),
        MemoryRegion(base: 0x9F000, length: 0x61000, type: 2),
        MemoryRegion(base: 0x100000, length: 0x500000, type: 1),
        MemoryRegion(base: 0x680000, length: 0x780000, type: 1),
        MemoryRegion(base: 0xE00000, length: 0x100000, type: 2),
        MemoryRegion(base: 0xF00000, length: 0x900000, type: 1),
    ]

    init(regions: [MemoryRegion] = Arena.defaultRegions, bytes: Int = 24 << 20,
         dma32StartPFN: UInt64 = 0x400, normalStartPFN: UInt64 = 0xC00, poison: Bool = false,
         opLogCapacity: UInt64 = 4096, heldBack: PhysRange = PhysRange(start: 0, end: 0)) throws {
        self.bytes = bytes
        self.regions = regions
        guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            fatalError("mmap of \(bytes) bytes failed")
        }
        base = p
        var config = BootConfig(directMapOffset: UInt64(UInt(bitPattern: p)))
        config.dma32StartPFN = dma32StartPFN
        config.normalStartPFN = normalStartPFN
        config.kernel = PhysRange(start: 0x100000, end: 0x140000)
        config.poison = poison
        config.opLogCapacity = opLogCapacity
        config.heldBack = heldBack
        allocator = try regions.withUnsafeBufferPointer { r in
            try PageAllocator.boot(regions: r, reservations: UnsafeBufferPointer(start: nil, count: 0), config: config)
        }
    }

    deinit { munmap(base, bytes) }

    /// The self-check, formatted for a failure message.
    func check() -> (passed: Bool, text: String) {
        let r = allocator.selfCheck()
        var s = StringSink()
        r.write(to: &s)
        return (r.passed, s.text)
    }

    /// Free pages per zone by the counters.
    func free(zone z: Int) -> UInt64 { allocator.zone(z).pointee.freePages }

    /// Zone of a PFN by this arena's limits.
    func zoneOf(_ pfn: PFN) -> Int { allocator.zoneIndex(of: pfn) }

    /// buddyinfo as text.
    var buddyinfo: String {
        var s = StringSink()
        allocator.writeBuddyinfo(to: &s)
        return s.text
    }

    /// Every managed PFN, segment by segment.
    var managedPFNs: [PFN] {
        (0..<allocator.segmentCount).flatMap { i -> [PFN] in
            let s = allocator.segment(i).pointee
            return Array(s.start..<s.end)
        }
    }
}

/// A `TextSink` collecting bytes into a String.
struct StringSink: TextSink {
    var bytes: [UInt8] = []
    mutating func put(_ byte: UInt8) { bytes.append(byte) }
    var text: String { String(decoding: bytes, as: UTF8.self) }
}
