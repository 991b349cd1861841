/// Guest memory that keeps a copy of every byte read through it, so that what a set of reads
/// saw can be saved as a snapshot file (``SnapshotFileWriter``) and read again offline
/// (``SnapshotFile``). Kernel-virtual reads that ``addressMap`` translates are kept as
/// guest-physical, so the same RAM read both ways is stored once.
public final class RecordingMemory: GuestMemory {
    /// The source the reads go to.
    public let base: any GuestMemory
    /// How kernel-virtual addresses are stored as physical ones.
    public let addressMap: KernelAddressMap
    private var pieces: [(space: AddressSpace, address: UInt64, bytes: [UInt8])] = []

    /// Records reads through `base`.
    public init(_ base: any GuestMemory, addressMap: KernelAddressMap) {
        self.base = base
        self.addressMap = addressMap
    }

    /// Bytes recorded so far (overlaps counted twice).
    public var recordedBytes: Int { pieces.reduce(0) { $0 + $1.bytes.count } }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        let bytes = try base.read(at: address, count: count)
        keep(.kernelVirtual, address, bytes)
        return bytes
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try base.read(space, at: address, into: buffer)
        keep(space, address, Array(buffer))
    }

    private func keep(_ space: AddressSpace, _ address: UInt64, _ bytes: [UInt8]) {
        guard !bytes.isEmpty, address <= UInt64.max - UInt64(bytes.count) else { return }
        if space == .kernelVirtual, let physical = addressMap.physical(address, count: bytes.count) {
            pieces.append((.guestPhysical, physical, bytes))
        } else {
            pieces.append((space, address, bytes))
        }
    }

    /// One stretch of recorded memory: overlapping and adjacent reads merged, in address
    /// order within each space (kernel-virtual first).
    public struct Stretch {
        public var space: AddressSpace
        public var address: UInt64
        public var end: UInt64
        /// The reads that make it up, by address; where two overlap they hold the same bytes
        /// (the guest was stopped), and the writer takes each byte once.
        public var pieces: [(address: UInt64, bytes: [UInt8])]
    }

    /// The recorded memory as merged stretches.
    public func stretches() -> [Stretch] {
        let sorted = pieces.sorted {
            ($0.space == .kernelVirtual ? 0 : 1, $0.address) < ($1.space == .kernelVirtual ? 0 : 1, $1.address)
        }
        var out: [Stretch] = []
        for p in sorted {
            let end = p.address + UInt64(p.bytes.count)
            if var last = out.last, last.space == p.space, p.address <= last.end {
                last.end = max(last.end, end)
                last.pieces.append((p.address, p.bytes))
                out[out.count - 1] = last
            } else {
                out.append(Stretch(space: p.space, address: p.address, end: end, pieces: [(p.address, p.bytes)]))
            }
        }
        return out
    }
}
