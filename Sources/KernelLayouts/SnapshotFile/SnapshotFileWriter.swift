import Glibc

/// Writes a snapshot file (format ``SnapshotFormat``) from what a ``RecordingMemory`` read.
public enum SnapshotFileWriter {
    /// Writes `header` and `stretches` to the open descriptor `fd` (`path` names it in errors).
    /// - Returns: the regions written, as the file's table lists them.
    @discardableResult
    public static func write(_ header: SnapshotHeader, _ stretches: [RecordingMemory.Stretch],
                             to fd: Int32, path: String) throws(SnapshotFileError) -> [SnapshotRegion] {
        let text = Array(header.text.utf8)
        let tableStart = align(SnapshotFormat.prefixSize + text.count, 8)
        let dataStart = align(tableStart + stretches.count * SnapshotFormat.regionEntrySize, SnapshotFormat.dataAlignment)
        var regions: [SnapshotRegion] = []
        var offset = UInt64(dataStart)
        for s in stretches {
            var crc: UInt32?
            each(s) { chunk in crc = SnapshotFormat.crc(chunk, continuing: crc) }
            let region = SnapshotRegion(space: s.space, address: s.address, length: s.end - s.address, offset: offset, crc: crc ?? 0)
            regions.append(region)
            offset = UInt64(align(Int(offset + region.length), SnapshotFormat.dataAlignment))
        }
        var front: [UInt8] = SnapshotFormat.magic
        appendLE(&front, SnapshotFormat.version)
        appendLE(&front, UInt32(text.count))
        appendLE(&front, UInt32(stretches.count))
        appendLE(&front, UInt32(0))
        front += text
        front += [UInt8](repeating: 0, count: tableStart - front.count)
        for r in regions {
            appendLE(&front, SnapshotFormat.code(r.space))
            appendLE(&front, r.crc)
            appendLE(&front, r.address)
            appendLE(&front, r.length)
            appendLE(&front, r.offset)
            appendLE(&front, UInt64(0))
        }
        // every write's failure is kept (errno) and thrown once, after the closures
        var position = 0
        var failed: Int32 = 0
        func put(_ bytes: UnsafeRawBufferPointer) {
            var done = 0
            while failed == 0 && done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 {
                    if errno != EINTR { failed = errno }
                    continue
                }
                done += n
            }
            position += bytes.count
        }
        let zeros = [UInt8](repeating: 0, count: SnapshotFormat.dataAlignment)
        front.withUnsafeBytes { put($0) }
        for (s, r) in zip(stretches, regions) {
            while failed == 0 && position < Int(r.offset) {
                let n = min(zeros.count, Int(r.offset) - position)
                zeros.withUnsafeBytes { put(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            each(s) { put($0) }
        }
        if failed != 0 { throw .cannotWrite(path: path, reason: String(cString: strerror(failed))) }
        return regions
    }

    /// Calls `body` with the stretch's bytes in address order, each byte once.
    static func each(_ s: RecordingMemory.Stretch, _ body: (UnsafeRawBufferPointer) -> Void) {
        var next = s.address
        for p in s.pieces {
            let end = p.address + UInt64(p.bytes.count)
            guard end > next else { continue }
            let skip = Int(next - p.address)
            p.bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[skip...])) }   // ArraySlice: 0-based buffer
            next = end
        }
    }

    static func align(_ n: Int, _ a: Int) -> Int { (n + a - 1) / a * a }

    static func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out += $0 }
    }
}
