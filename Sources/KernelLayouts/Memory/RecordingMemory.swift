/// Guest memory that keeps a copy of every byte read through it, so that what a set of reads
/// saw can be saved as a snapshot file (``SnapshotFileWriter``) and read again offline
/// (``SnapshotFile``). Kernel-virtual reads that ``addressMap`` translates are kept as
/// guest-physical, so the same RAM read both ways is stored once.
///
/// Reads of at least ``handOverSize`` bytes are not copied: the caller already holds them
/// (the decoder's FrameMeta array) and hands the array over with ``handOver(_:_:at:)``, so the
/// tool holds one copy of it, not two; what is not handed over is read again by
/// ``stretches()`` (the guest must still be held then).
public final class RecordingMemory: GuestMemory {
    /// The source the reads go to.
    public let base: any GuestMemory
    /// How kernel-virtual addresses are stored as physical ones.
    public let addressMap: KernelAddressMap
    /// Reads at least this large are recorded by place only (nil: every read is copied).
    public let handOverSize: Int?
    private var pieces: [Piece] = []

    struct Piece {
        var space: AddressSpace
        var address: UInt64
        var count: Int
        /// The bytes; nil until handed over (or read again).
        var bytes: ArraySlice<UInt8>?
        /// Where it was read, as the caller named it (for reading it again).
        var asRead: (space: AddressSpace, address: UInt64)
    }

    /// Records reads through `base`; `handOverSize` as above.
    public init(_ base: any GuestMemory, addressMap: KernelAddressMap, handOverSize: Int? = nil) {
        self.base = base
        self.addressMap = addressMap
        self.handOverSize = handOverSize
    }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        let bytes = try base.read(at: address, count: count)
        keep(.kernelVirtual, address, count, bytes[...])
        return bytes
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try base.read(space, at: address, into: buffer)
        keep(space, address, buffer.count, handOverSize.map { buffer.count >= $0 } == true ? nil : Array(buffer)[...])
    }

    private func keep(_ space: AddressSpace, _ address: UInt64, _ count: Int, _ bytes: ArraySlice<UInt8>?) {
        guard count > 0, address <= UInt64.max - UInt64(count) else { return }
        let (s, a) = stored(space, address, count)
        pieces.append(Piece(space: s, address: a, count: count, bytes: bytes, asRead: (space, address)))
    }

    /// Where a read is stored: kernel-virtual translated to physical when a window holds it.
    private func stored(_ space: AddressSpace, _ address: UInt64, _ count: Int) -> (AddressSpace, UInt64) {
        if space == .kernelVirtual, let physical = addressMap.physical(address, count: count) { return (.guestPhysical, physical) }
        return (space, address)
    }

    /// Hands over `bytes`, read earlier at `address` in `space`: every large read inside that
    /// range takes its bytes from it, sharing the array's storage.
    public func handOver(_ bytes: [UInt8], _ space: AddressSpace, at address: UInt64) {
        guard !bytes.isEmpty else { return }
        let (s, a) = stored(space, address, bytes.count)
        for i in pieces.indices where pieces[i].bytes == nil && pieces[i].space == s && pieces[i].count <= bytes.count
            && pieces[i].address >= a && pieces[i].address - a <= UInt64(bytes.count - pieces[i].count) {
            let start = Int(pieces[i].address - a)
            pieces[i].bytes = bytes[start..<(start + pieces[i].count)]
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
        public var pieces: [(address: UInt64, bytes: ArraySlice<UInt8>)]
    }

    /// The recorded memory as merged stretches; large reads not handed over are read again.
    public func stretches() throws -> [Stretch] {
        for i in pieces.indices where pieces[i].bytes == nil {
            pieces[i].bytes = try base.read(pieces[i].asRead.space, at: pieces[i].asRead.address, count: pieces[i].count)[...]
        }
        let sorted = pieces.sorted {
            ($0.space == .kernelVirtual ? 0 : 1, $0.address) < ($1.space == .kernelVirtual ? 0 : 1, $1.address)
        }
        var out: [Stretch] = []
        for p in sorted {
            let end = p.address + UInt64(p.count)
            let bytes = p.bytes ?? []
            if var last = out.last, last.space == p.space, p.address <= last.end {
                last.end = max(last.end, end)
                last.pieces.append((p.address, bytes))
                out[out.count - 1] = last
            } else {
                out.append(Stretch(space: p.space, address: p.address, end: end, pieces: [(p.address, bytes)]))
            }
        }
        return out
    }
}
