import Glibc

/// A snapshot file opened for reading: checked from end to end before anything trusts it
/// (magic, format, header, every region inside the file, no two regions overlapping, every
/// region's CRC-32), then mapped read-only. ``memory`` reads guest memory out of it the way
/// the live guest was read, so every view and `verify` run on it offline.
public final class SnapshotFile {
    /// Where it was opened from.
    public let path: String
    /// What the file says about where its bytes came from.
    public let header: SnapshotHeader
    /// The stretches of memory held, kernel-virtual first, each space by address.
    public let regions: [SnapshotRegion]
    /// The file's size in bytes.
    public let size: Int
    private let base: UnsafeRawPointer?

    /// Opens and checks `path`.
    public init(path: String) throws(SnapshotFileError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: path, errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .damaged(path: path, reason: "it is not a regular file") }
        size = Int(st.st_size)
        guard size >= SnapshotFormat.prefixSize else {
            if size >= 8 || size == 0 { throw size == 0 ? .notASnapshot(path: path) : .damaged(path: path, reason: "it ends after \(size) bytes, inside the prefix") }
            throw .notASnapshot(path: path)
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw .cannotOpen(path: path, errno: errno)
        }
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(mapped), count: size)
        do {
            (header, regions) = try Self.parse(bytes, path: path)
        } catch {
            munmap(mapped, size)
            throw error
        }
        base = UnsafeRawPointer(mapped)
    }

    deinit { if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) } }

    /// Checks the whole file and returns its header and regions.
    static func parse(_ b: UnsafeRawBufferPointer, path: String) throws(SnapshotFileError) -> (SnapshotHeader, [SnapshotRegion]) {
        guard b.count >= 8, Array(b[0..<8]) == SnapshotFormat.magic else { throw .notASnapshot(path: path) }
        func u32(_ at: Int) -> UInt32 { b.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian }
        func u64(_ at: Int) -> UInt64 { b.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian }
        let version = u32(8)
        guard version <= SnapshotFormat.version else { throw .newerFormat(path: path, version: version) }
        guard version == SnapshotFormat.version else { throw .damaged(path: path, reason: "format version \(version) is not one kmemscope ever wrote") }
        let textSize = Int(u32(12)), count = Int(u32(16))
        guard textSize <= SnapshotFormat.maxHeaderSize else { throw .damaged(path: path, reason: "its header claims \(textSize) bytes (at most \(SnapshotFormat.maxHeaderSize))") }
        guard count <= SnapshotFormat.maxRegions else { throw .damaged(path: path, reason: "it claims \(count) regions (at most \(SnapshotFormat.maxRegions))") }
        let tableStart = SnapshotFileWriter.align(SnapshotFormat.prefixSize + textSize, 8)
        let tableEnd = tableStart + count * SnapshotFormat.regionEntrySize
        guard tableEnd <= b.count else { throw .damaged(path: path, reason: "it ends at byte \(b.count), inside its header or region table (which end at \(tableEnd))") }
        guard let text = String(validating: b[SnapshotFormat.prefixSize..<(SnapshotFormat.prefixSize + textSize)], as: UTF8.self) else {
            throw .damaged(path: path, reason: "its header is not UTF-8 text")
        }
        let header = try SnapshotHeader(text: text, path: path)
        var regions: [SnapshotRegion] = []
        regions.reserveCapacity(count)
        for i in 0..<count {
            let e = tableStart + i * SnapshotFormat.regionEntrySize
            guard let space = SnapshotFormat.space(u32(e)) else { throw .damaged(path: path, reason: "region \(i) names address space \(u32(e))") }
            let r = SnapshotRegion(space: space, address: u64(e + 8), length: u64(e + 16), offset: u64(e + 24), crc: u32(e + 4))
            let (end, over) = r.offset.addingReportingOverflow(r.length)
            guard !over, r.offset >= UInt64(tableEnd), end <= UInt64(b.count) else {
                throw .damaged(path: path, reason: "region \(i) (\(r.length) bytes at file offset \(r.offset)) lies outside the file's \(b.count) bytes")
            }
            guard r.length > 0, r.address <= UInt64.max - r.length else { throw .damaged(path: path, reason: "region \(i) is empty or wraps the address space") }
            if let last = regions.last, last.space == r.space ? last.end > r.address : (last.space == .guestPhysical) {
                throw .damaged(path: path, reason: "region \(i) overlaps or precedes region \(i - 1)")
            }
            guard SnapshotFormat.crc(UnsafeRawBufferPointer(rebasing: b[Int(r.offset)..<Int(end)])) == r.crc else {
                throw .damaged(path: path, reason: "region \(i) (\(r.space) 0x\(String(r.address, radix: 16)), \(r.length) bytes) fails its CRC-32")
            }
            regions.append(r)
        }
        return (header, regions)
    }

    /// The region holding `[address, address + count)` in `space`, if one does.
    public func region(_ space: AddressSpace, holding address: UInt64, count: Int) -> SnapshotRegion? {
        var lo = 0, hi = regions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let r = regions[mid]
            if (r.space == .kernelVirtual ? 0 : 1, r.address) <= (space == .kernelVirtual ? 0 : 1, address) { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let r = regions[lo - 1]
        guard r.space == space, address - r.address <= r.length, UInt64(count) <= r.length - (address - r.address) else { return nil }
        return r
    }

    /// Guest memory as the snapshot holds it.
    public var memory: SnapshotMemory { SnapshotMemory(file: self) }

    /// Copies the held bytes at `[address, address + buffer.count)` into `buffer`.
    func copy(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(SnapshotFileError) {
        if buffer.isEmpty { return }
        var found = region(space, holding: address, count: buffer.count)
        if found == nil, space == .kernelVirtual, let physical = header.addressMap.physical(address, count: buffer.count) {
            found = region(.guestPhysical, holding: physical, count: buffer.count)
            if let r = found { return copyOut(from: Int(r.offset + (physical - r.address)), into: buffer) }
        }
        guard let r = found, base != nil else { throw .notHeld(path: path, space: space, address: address, count: buffer.count) }
        copyOut(from: Int(r.offset + (address - r.address)), into: buffer)
    }

    /// Copies from the mapping, 4 MiB at a time; each piece's mapped pages are let go once
    /// copied (`MADV_DONTNEED`: the file's pages stay in the page cache), so reading the
    /// FrameMeta array holds one copy of it, not two.
    private func copyOut(from offset: Int, into buffer: UnsafeMutableRawBufferPointer) {
        guard let base else { return }
        let piece = 4 << 20, page = 4096
        var done = 0
        while done < buffer.count {
            let n = min(piece, buffer.count - done)
            UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + n)])
                .copyMemory(from: UnsafeRawBufferPointer(start: base + offset + done, count: n))
            let first = (offset + done + page - 1) / page * page, last = (offset + done + n) / page * page
            if buffer.count >= piece, last > first { madvise(UnsafeMutableRawPointer(mutating: base + first), last - first, MADV_DONTNEED) }
            done += n
        }
    }
}

/// Guest memory read out of a ``SnapshotFile``: kernel-virtual addresses through the address
/// map the snapshot was taken with, guest-physical ones as held. A read of bytes the snapshot
/// does not hold throws ``SnapshotFileError/notHeld(path:space:address:count:)``.
public struct SnapshotMemory: GuestMemory {
    public let file: SnapshotFile

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        try read(.kernelVirtual, at: address, count: count)
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try file.copy(space, at: address, into: buffer)
    }
}
