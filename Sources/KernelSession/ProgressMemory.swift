import KernelLayouts

/// Guest memory that reports to a ``ReadProgress`` as it reads: a read of more than a
/// megabyte is split into 1 MiB reads of `base` (one report each; the pipelined stub drains
/// once per MiB, which costs well under 1 %), smaller reads are passed through and counted.
/// What is read and every error are `base`'s.
public struct ProgressMemory: GuestMemory {
    /// Where the bytes come from.
    public let base: any GuestMemory
    /// Where progress goes.
    public let progress: ReadProgress
    /// Bytes per report.
    public static let chunk = 1 << 20

    public init(base: any GuestMemory, progress: ReadProgress) {
        // never two reporters in a row (a console re-wrapping its session's memory)
        self.base = (base as? ProgressMemory)?.base ?? base
        self.progress = progress
    }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        guard count > Self.chunk, !Self.wraps(address, count) else {
            let bytes = try base.read(at: address, count: count)
            progress.add(bytes.count)
            return bytes
        }
        progress.expect(count)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let n = min(Self.chunk, count - out.count)
            let part = try base.read(at: address + UInt64(out.count), count: n)
            out += part
            progress.add(part.count)
            if part.count < n { break }   // a short read ends it, as the source's own would
        }
        return out
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard buffer.count > Self.chunk, !Self.wraps(address, buffer.count) else {
            try base.read(space, at: address, into: buffer)
            progress.add(buffer.count)
            return
        }
        progress.expect(buffer.count)
        var done = 0
        while done < buffer.count {
            let n = min(Self.chunk, buffer.count - done)
            try base.read(space, at: address + UInt64(done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + n)]))
            done += n
            progress.add(n)
        }
    }

    /// A range past 2^64 is left to `base` whole (it refuses it naming the address).
    static func wraps(_ address: UInt64, _ count: Int) -> Bool {
        address.addingReportingOverflow(UInt64(count)).overflow
    }
}
