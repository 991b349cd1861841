import GDBRemote
import Glibc

/// A non-blocking stream socket the proxy's loop polls: bytes received go to a
/// ``RawFrameBuffer``, bytes to send wait in `output` until the peer takes them.
final class ProxySocket {
    private(set) var fd: Int32
    var input: RawFrameBuffer
    /// Bytes not yet written (the peer's socket buffer was full).
    private(set) var output: [UInt8] = []
    /// Set once the peer closed or an I/O error occurred.
    private(set) var closed = false
    /// Whether the peer has sent anything yet.
    private(set) var heardFrom = false

    init(fd: Int32, maximumPayload: Int) {
        self.fd = fd
        self.input = RawFrameBuffer(maximumPayload: maximumPayload + 4)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close() }

    /// Whether the peer has sent anything, counting bytes that wait in the socket unread: the
    /// loop serves QEMU before clients, so a client's first packet can be in the socket while
    /// QEMU's stop reply is handled (a peek, nothing is consumed).
    var hasSpoken: Bool {
        if heardFrom { return true }
        guard !closed else { return false }
        var byte: UInt8 = 0
        while true {
            let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            if n < 0 && errno == EINTR { continue }
            return n > 0
        }
    }

    /// Reads what is waiting. Returns false when the peer closed (or the read failed).
    func receive() -> Bool {
        guard !closed else { return false }
        let n = input.fill(minimum: 1 << 15) { buffer in
            while true {
                let n = recv(fd, buffer.baseAddress, buffer.count, 0)
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return -2 }
                return n
            }
        }
        if n == -2 { return true }
        if n <= 0 { closed = true; return false }
        heardFrom = true
        return true
    }

    /// Sends `bytes` (now if the socket takes them, else later from ``flush()``).
    func send(_ bytes: UnsafeRawBufferPointer) {
        guard !closed, bytes.count > 0 else { return }
        var offset = 0
        if output.isEmpty {
            offset = write(bytes)
            if offset == bytes.count { return }
        }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
    }

    func send(_ bytes: [UInt8]) { bytes.withUnsafeBytes { send($0) } }

    /// Sends two pieces with one system call when possible (an ack ahead of a packet).
    func send(_ first: [UInt8], _ second: UnsafeRawBufferPointer) {
        if first.isEmpty { send(second); return }
        guard output.isEmpty, !closed else { send(first); send(second); return }
        var sent = 0
        first.withUnsafeBytes { a in
            var iov = [iovec(iov_base: UnsafeMutableRawPointer(mutating: a.baseAddress!), iov_len: a.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count)]
            var msg = msghdr()
            iov.withUnsafeMutableBufferPointer { p in
                msg.msg_iov = p.baseAddress
                msg.msg_iovlen = 2
                while true {
                    let n = sendmsg(fd, &msg, Int32(MSG_NOSIGNAL))
                    if n < 0 && errno == EINTR { continue }
                    sent = n < 0 ? ((errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1) : n
                    break
                }
            }
        }
        if sent < 0 { closed = true; return }
        if sent < first.count {
            output.append(contentsOf: first[sent...])
            output.append(contentsOf: second)
        } else if sent - first.count < second.count {
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: second[(sent - first.count)...]))
        }
    }

    /// Writes what is queued; true when nothing is left.
    @discardableResult
    func flush() -> Bool {
        guard !output.isEmpty, !closed else { return output.isEmpty || closed }
        let n = output.withUnsafeBytes { write($0) }
        output.removeFirst(n)
        return output.isEmpty
    }

    var wantsWrite: Bool { !output.isEmpty && !closed }

    private func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            closed = true
            break
        }
        return offset
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        closed = true
    }
}
