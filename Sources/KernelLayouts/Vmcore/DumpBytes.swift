import Glibc

/// Where a dump's bytes come from: a file (``DumpFileBytes``) or, for the fuzzer and tests, an
/// array. Every read is bounded by ``size``: a read past it is ``VmcoreError/truncated(path:what:needed:size:)``.
public protocol DumpBytes {
    /// The file's name, for messages.
    var path: String { get }
    /// How many bytes there are.
    var size: UInt64 { get }
    /// Fills `buffer` with the bytes at `offset`; `what` names them in the error.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer, what: String) throws(VmcoreError)
}

extension DumpBytes {
    /// `count` bytes at `offset` (count is checked against ``size`` before anything is allocated).
    public func bytes(at offset: UInt64, count: Int, what: String) throws(VmcoreError) -> [UInt8] {
        precondition(count >= 0)
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= size else { throw .truncated(path: path, what: what, needed: overflow ? .max : end, size: size) }
        var out = [UInt8](repeating: 0, count: count)
        var failure: VmcoreError?
        out.withUnsafeMutableBytes { b in
            do throws(VmcoreError) { try read(at: offset, into: b, what: what) } catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }
}

/// A dump held in memory (tests, the fuzzer).
public struct ArrayDumpBytes: DumpBytes {
    public let path: String
    public let data: [UInt8]
    public var size: UInt64 { UInt64(data.count) }

    public init(_ data: [UInt8], path: String = "<bytes>") {
        self.data = data
        self.path = path
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer, what: String) throws(VmcoreError) {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(buffer.count))
        guard !overflow, end <= size else { throw .truncated(path: path, what: what, needed: overflow ? .max : end, size: size) }
        data.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(end)])) }
    }
}

/// A dump file opened read-only, read with `pread(2)`.
public final class DumpFileBytes: DumpBytes, @unchecked Sendable {
    public let path: String
    public let size: UInt64
    /// The open descriptor (closed with the object).
    public let fd: Int32

    /// Opens `path` read-only.
    public init(path: String) throws(VmcoreError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_size >= 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .cannotOpen(path: path, reason: reason)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .wrongKind(path: path, reason: "not a regular file")
        }
        self.fd = fd
        self.path = path
        size = UInt64(st.st_size)
    }

    deinit { close(fd) }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer, what: String) throws(VmcoreError) {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(buffer.count))
        guard !overflow, end <= size else { throw .truncated(path: path, what: what, needed: overflow ? .max : end, size: size) }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + UInt64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotOpen(path: path, reason: "read of \(what) at offset \(offset + UInt64(done)) failed: \(String(cString: strerror(errno)))")
            }
            guard n > 0 else { throw .truncated(path: path, what: what, needed: end, size: offset + UInt64(done)) }
            done += n
        }
    }
}
