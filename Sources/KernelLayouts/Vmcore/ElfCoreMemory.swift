/// Guest-physical memory of an ELF core: each read is served from the PT_LOAD segment that
/// holds it (found by binary search among disjoint pieces; with `-p` dumps, where segments
/// repeat physical ranges, the first serves). A range no segment holds is ``GuestMemoryError/unmapped(_:address:count:source:)``
/// naming the file. Kernel-virtual reads go through ``PageTableMemory`` on top of this.
public final class ElfCoreMemory: GuestMemory, @unchecked Sendable {
    public let file: DumpFileBytes
    /// The segments with bytes in the file, sorted by physical address.
    let segments: [ElfCore.Segment]

    public init(file: DumpFileBytes, core: ElfCore) {
        self.file = file
        // disjoint pieces: where segments overlap (-p dumps map some pages twice), the first
        // to cover an address serves it
        var pieces: [ElfCore.Segment] = []
        var covered: UInt64 = 0
        for s in core.segments.filter({ $0.fileSize > 0 }).sorted(by: { $0.physical < $1.physical }) {
            let end = s.physical + s.fileSize
            if !pieces.isEmpty && end <= covered { continue }
            var piece = s
            if !pieces.isEmpty && s.physical < covered {
                let skip = covered - s.physical
                piece.physical = covered
                piece.offset = s.offset + skip
                piece.fileSize = s.fileSize - skip
            }
            pieces.append(piece)
            covered = end
        }
        segments = pieces
    }

    /// One past the highest physical address a segment holds.
    public var end: UInt64 { segments.map { $0.physical + $0.fileSize }.max() ?? 0 }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        throw GuestMemoryError.unsupportedSpace(.kernelVirtual, source: "the vmcore's physical memory")
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard space == .guestPhysical else { throw GuestMemoryError.unsupportedSpace(space, source: "the vmcore's physical memory") }
        var done = 0
        while done < buffer.count {
            let (at, overflow) = address.addingReportingOverflow(UInt64(done))
            guard !overflow, let s = segment(holding: at) else {
                throw GuestMemoryError.unmapped(.guestPhysical, address: address &+ UInt64(done), count: buffer.count - done, source: "the vmcore \(file.path)")
            }
            let n = Int(min(UInt64(buffer.count - done), s.physical + s.fileSize - at))
            try file.read(at: s.offset + (at - s.physical), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + n)]),
                          what: "physical 0x\(String(at, radix: 16))")
            done += n
        }
    }

    /// The piece holding `address`.
    func segment(holding address: UInt64) -> ElfCore.Segment? {
        var low = 0, high = segments.count
        while low < high {
            let mid = (low + high) / 2
            if segments[mid].physical <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        let s = segments[low - 1]
        return address - s.physical < s.fileSize ? s : nil
    }
}
