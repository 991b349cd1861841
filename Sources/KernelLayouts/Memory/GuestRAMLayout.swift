/// Where guest-physical RAM lies in QEMU's main RAM block: one range below the PCI hole, one
/// above 4 GiB (and the low 640 KiB apart from VGA), each at an offset in the block (the
/// memory-backend file's offset, or the host mapping's). Learned from QEMU's monitor
/// (`info ramblock` names the main block, `info mtree -f` places it), never assumed.
public struct GuestRAMLayout: Sendable, Equatable {
    /// `[physicalStart, physicalStart + size)` is the RAM block's bytes at `blockOffset…`.
    public struct Range: Sendable, Equatable {
        public var physicalStart: UInt64
        public var size: UInt64
        public var blockOffset: UInt64
        public init(physicalStart: UInt64, size: UInt64, blockOffset: UInt64) {
            self.physicalStart = physicalStart
            self.size = size
            self.blockOffset = blockOffset
        }
    }

    /// The main RAM block's name (`pc.ram`, or the memory backend's id).
    public var block: String
    /// The block's size in bytes.
    public var blockSize: UInt64
    /// Sorted by physical address.
    public var ranges: [Range]

    public init(block: String, blockSize: UInt64, ranges: [Range]) {
        self.block = block
        self.blockSize = blockSize
        self.ranges = ranges.sorted { $0.physicalStart < $1.physicalStart }
    }

    /// Parses `info ramblock` (the largest block is guest RAM) and `info mtree -f` (the flat
    /// view of address space "memory": every range of that block, RAM or ROM mode, with its
    /// `@offset`).
    public init(ramblock: String, mtree: String) throws {
        var best: (name: String, size: UInt64)?
        var large: [String] = []
        for line in ramblock.split(whereSeparator: \.isNewline) {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, let used = Self.hex(f[4]) else { continue }
            if best == nil || used > best!.size { best = (String(f[0]), used) }
            // main memory blocks (pc.ram, a backend's id) have plain names; a device's
            // (0000:00:02.0/vga.vram) and firmware's (/rom@…) carry a path
            if used >= 16 << 20, !f[0].contains("/") { large.append(String(f[0])) }
        }
        // A NUMA guest (one memory backend per node) has several RAM blocks; this layout
        // places one, so the rest of guest RAM would read as "no RAM": refuse, and the
        // automatic choice falls back to the stub.
        if large.count > 1 {
            throw GuestMemoryError.unusable("QEMU has \(large.count) RAM blocks (\(large.joined(separator: ", ")): one per NUMA node?) and this source places one")
        }
        guard let main = best else {
            throw GuestMemoryError.unusable("QEMU's `info ramblock` listed no RAM block: \(ramblock.prefix(200).debugDescription)")
        }
        var views: [[Substring]] = []
        for line in mtree.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("FlatView") { views.append([]) } else if !views.isEmpty { views[views.count - 1].append(line) }
        }
        let view = views.first { $0.contains { $0.contains("AS \"memory\"") } } ?? views.first ?? []
        var ranges: [Range] = []
        for line in view {
            // "  0000000000100000-00000000bfffffff (prio 0, ram): pc.ram @0000000000100000 KVM"
            guard let close = line.firstIndex(of: ")"), line[close...].hasPrefix("): ") else { continue }
            let bounds = line[..<close].split(separator: " ").first ?? ""
            let rest = line[line.index(close, offsetBy: 3)...].split(separator: " ")
            let ends = bounds.split(separator: "-")
            guard ends.count == 2, let start = Self.hex(ends[0]), let last = Self.hex(ends[1]), last >= start,
                  let name = rest.first, name == main.name else { continue }
            let offset = rest.dropFirst().first { $0.hasPrefix("@") }.flatMap { Self.hex($0.dropFirst()) } ?? 0
            let size: UInt64 = last - start + 1
            guard offset <= main.size, size <= main.size - offset else {
                throw GuestMemoryError.unusable("QEMU's flat view maps \(name) past its \(main.size) bytes: \(line)")
            }
            ranges.append(Range(physicalStart: start, size: size, blockOffset: offset))
        }
        guard !ranges.isEmpty else {
            throw GuestMemoryError.unusable("QEMU's `info mtree -f` does not place RAM block \(main.name) in address space \"memory\"")
        }
        self.init(block: main.name, blockSize: main.size, ranges: ranges)
    }

    /// Calls `body(blockOffset, bufferOffset, count)` for each piece of the physical range
    /// `[address, address + count)`, or throws naming the first address with no RAM.
    public func pieces(_ address: UInt64, count: Int, source: String,
                       _ body: (UInt64, Int, Int) throws -> Void) throws {
        var done = 0
        while done < count {
            let a = address &+ UInt64(done)
            guard a >= address, let r = ranges.last(where: { $0.physicalStart <= a }), a - r.physicalStart < r.size else {
                throw GuestMemoryError.unmapped(.guestPhysical, address: a, count: count - done, source: source)
            }
            let inRange = r.size - (a - r.physicalStart)
            let n = Int(min(inRange, UInt64(count - done)))
            try body(r.blockOffset + (a - r.physicalStart), done, n)
            done += n
        }
    }

    /// Bytes of guest RAM the layout places.
    public var mappedBytes: UInt64 { ranges.reduce(0) { $0 &+ $1.size } }

    static func hex<S: StringProtocol>(_ s: S) -> UInt64? {
        UInt64(s.hasPrefix("0x") ? s.dropFirst(2) : s[...], radix: 16)
    }
}
