/// Kernel-virtual addresses translated through the guest's own 4-level page tables (from a
/// CR3 value), read from a source that knows only guest-physical memory (the QEMU process, the
/// RAM file). What a kernel without the bundled kernel's published windows (Linux: its direct
/// map, vmemmap and image mappings) is read through without the stub.
///
/// Each translation is cached per page (4 KiB, 2 MiB or 1 GiB as the tables say), so a large
/// read walks once per page and physically contiguous pages are read in one piece. The tables
/// are untrusted: each walk is ``PageTableWalk`` (at most four reads, tables checked against
/// `ram`); a virtual page that does not translate is an error naming it.
public final class PageTableMemory: GuestMemory {
    /// Guest-physical memory.
    public let physical: any GuestMemory
    /// The CR3 value walked from (its flag bits are masked off by the walk).
    public let cr3: UInt64
    /// One past the highest guest-physical address a table may lie at.
    public let ram: UInt64
    private var pages: [UInt64: (physical: UInt64, size: UInt64)] = [:]

    /// Reads kernel-virtual addresses of `physical`'s guest through the tables at `cr3`.
    public init(physical: any GuestMemory, cr3: UInt64, ram: UInt64) {
        self.physical = physical
        self.cr3 = cr3
        self.ram = ram
    }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try read(.kernelVirtual, at: address, count: count)
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard space == .kernelVirtual else { return try physical.read(space, at: address, into: buffer) }
        guard UInt64(buffer.count) <= UInt64.max - address else {
            throw GuestMemoryError.unmapped(space, address: address, count: buffer.count, source: "the guest's page tables")
        }
        var done = 0
        while done < buffer.count {
            // the longest physically contiguous piece from here
            let start = address + UInt64(done)
            let first = try translate(start)
            var pieceEnd = min(first.pageEnd, start + UInt64(buffer.count - done))
            var physicalEnd = first.physical + (pieceEnd - start)
            while pieceEnd < start + UInt64(buffer.count - done) {
                let next = try translate(pieceEnd)
                guard next.physical == physicalEnd else { break }
                let end = min(next.pageEnd, start + UInt64(buffer.count - done))
                physicalEnd += end - pieceEnd
                pieceEnd = end
            }
            let n = Int(pieceEnd - start)
            try physical.read(.guestPhysical, at: first.physical, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + n)]))
            done += n
        }
    }

    /// The physical address of `virtual` and the end of its page (virtual).
    func translate(_ virtual: UInt64) throws -> (physical: UInt64, pageEnd: UInt64) {
        for size: UInt64 in [4096, 2 << 20, 1 << 30] {
            let base = virtual & ~(size - 1)
            if let p = pages[base], p.size == size { return (p.physical + (virtual - base), base &+ size == 0 ? .max : base + size) }
        }
        let walk = try PageTableWalk(virtual: virtual, cr3: cr3, ram: ram) { entry in
            try physical.read(.guestPhysical, at: entry, count: 8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        guard let p = walk.physical, let size = walk.pageSize, size.nonzeroBitCount == 1 else {
            throw GuestMemoryError.unmapped(.kernelVirtual, address: virtual, count: 1,
                                            source: "the guest's page tables (\(walk.stop ?? "no page"))")
        }
        let base = virtual & ~(size - 1)
        if pages.count > 1 << 16 { pages.removeAll(keepingCapacity: true) }   // bounded whatever the guest maps
        pages[base] = (p - (virtual - base), size)
        return (p, base &+ size == 0 ? .max : base + size)
    }
}
