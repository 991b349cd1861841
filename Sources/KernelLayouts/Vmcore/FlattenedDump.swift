import Glibc

/// makedumpfile's *flattened* format, which QEMU (before 8.2) writes for every
/// `dump-guest-memory -z/-l/-s`: a 4 KiB header whose signature is `makedumpfile`, then records
/// of (big-endian offset, big-endian size, bytes) that say where each piece of the real kdump
/// file goes, ended by a record of offsets -1. libkdumpfile 0.5.1 reads only the real file, so
/// the records are written back into place in a temporary file, as `makedumpfile -R` does.
/// Untrusted: every record is bounded by the file and by ``outputLimit``.
public enum FlattenedDump {
    static let signature = Array("makedumpfile".utf8)
    static let headerSize: UInt64 = 4096
    /// The largest rearranged file written (a kdump file is the compressed pages plus headers).
    public static let outputLimit: UInt64 = 1 << 40

    /// Whether `bytes` (the file's first 16) are a flattened header.
    public static func isFlattened(_ bytes: [UInt8]) -> Bool { bytes.starts(with: signature) }

    /// Writes the kdump file `input` flattens into the open descriptor `fd`.
    /// - Parameter limit: the largest output offset accepted (``outputLimit`` by default).
    public static func rearrange(_ input: some DumpBytes, into fd: Int32, limit: UInt64 = outputLimit) throws(VmcoreError) {
        let path = input.path
        let header = try input.bytes(at: 0, count: 32, what: "the flattened header")
        guard isFlattened(header) else { throw .wrongKind(path: path, reason: "no makedumpfile signature") }
        let type = be64(header, 16), version = be64(header, 24)
        guard type == 1 else { throw .corrupt(path: path, reason: "flattened header of type \(type) (1 is the only one)") }
        guard version == 1 else { throw .corrupt(path: path, reason: "flattened format version \(version) (1 is the only one)") }
        var at = headerSize
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var records = 0
        while true {
            let r = try input.bytes(at: at, count: 16, what: "flattened record \(records) (no end marker before the end of the file)")
            let offset = be64(r, 0), size = be64(r, 8)
            if offset == .max && size == .max { return }
            guard offset < limit, size <= limit - offset else {
                throw .corrupt(path: path, reason: "flattened record \(records) puts \(size) bytes at offset \(offset): past \(limit) bytes")
            }
            at += 16
            guard size <= input.size, at <= input.size - size else {
                throw .truncated(path: path, what: "flattened record \(records) (\(size) bytes at file offset \(at))", needed: at &+ size, size: input.size)
            }
            var done: UInt64 = 0
            while done < size {
                let n = Int(min(UInt64(buffer.count), size - done))
                var failure: VmcoreError?
                buffer.withUnsafeMutableBytes { b in
                    let piece = UnsafeMutableRawBufferPointer(rebasing: b[0..<n])
                    do throws(VmcoreError) { try input.read(at: at + done, into: piece, what: "flattened record \(records)") } catch {
                        failure = error
                        return
                    }
                    var written = 0
                    while written < n {
                        let w = pwrite(fd, piece.baseAddress! + written, n - written, off_t(offset + done + UInt64(written)))
                        if w < 0 && errno == EINTR { continue }
                        guard w > 0 else {
                            failure = .cannotOpen(path: path, reason: "cannot write the rearranged dump: \(String(cString: strerror(errno)))")
                            return
                        }
                        written += w
                    }
                }
                if let failure { throw failure }
                done += UInt64(n)
            }
            at += size
            records += 1
        }
    }

    static func be64(_ b: [UInt8], _ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(b[i + $1]) } }
}
