import Foundation
import Glibc
import GDBRemote

/// A fake GDB stub on a loopback TCP socket, for what QEMU cannot be made to do: damaged
/// checksums, `-` naks, run-length and escaped replies, replies dribbled over many segments,
/// oversize replies, garbage between packets, silence, and closing mid-packet.
///
/// It listens on 127.0.0.1 port 0 (the kernel picks a free port; no race with parallel
/// tests), accepts one client on a background thread, answers the set-up requests a
/// ``RemoteTarget`` makes (`qSupported`, `?`, `vCont?`) by itself, and hands every other
/// request to the test's `handler`, which answers through the ``Session``. Every wait in it
/// is bounded; ``stop()`` (also run by `deinit`) closes everything.
public final class ScriptedStub: @unchecked Sendable {
    /// What the handler uses to answer.
    public final class Session: @unchecked Sendable {
        fileprivate var fd: Int32 = -1
        /// False after the stub has agreed to `QStartNoAckMode`.
        public var ackMode = true
        /// The last packet sent, resent when the client answers `-`.
        public var lastFrame: [UInt8] = []
        /// When set, a `-` from the client is answered by this instead of a resend.
        public var onNak: (() -> Void)?
        /// When set, called (on the stub's thread) for each interrupt byte (0x03) the client sends.
        public var onInterrupt: (() -> Void)?
        /// How many of the next resends (on `-`) are damaged again.
        public var corruptResends = 0

        public func raw(_ bytes: [UInt8]) {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                offset += n
            }
        }
        public func raw(_ text: String) { raw(Array(text.utf8)) }

        /// `+` (in ack mode) then `$payload#cc`, the payload sent as is (already escaped/encoded).
        public func reply(_ payload: String) { replyRaw(Array(payload.utf8)) }

        public func replyRaw(_ payload: [UInt8]) {
            lastFrame = ScriptedStub.frameVerbatim(payload)
            raw((ackMode ? [UInt8(ascii: "+")] : []) + lastFrame)
        }

        /// Like ``reply(_:)`` with the checksum off by one.
        public func replyCorrupt(_ payload: String) {
            var frame = ScriptedStub.frameVerbatim(Array(payload.utf8))
            let sum = UInt8(Hex.number(frame.suffix(2))!) &+ 1
            frame.replaceSubrange((frame.count - 2)..., with: Array(Hex.string([sum]).utf8))
            lastFrame = ScriptedStub.frameVerbatim(Array(payload.utf8))
            raw((ackMode ? [UInt8(ascii: "+")] : []) + frame)
        }

        /// The whole reply, in `pieces` writes `delayMicros` apart (many TCP segments: the
        /// client sets TCP_NODELAY and so do we).
        public func replySplit(_ payload: String, pieces: Int, delayMicros: UInt32) {
            let bytes = (ackMode ? [UInt8(ascii: "+")] : []) + ScriptedStub.frameVerbatim(Array(payload.utf8))
            lastFrame = bytes
            let size = max(1, (bytes.count + pieces - 1) / pieces)
            var offset = 0
            while offset < bytes.count {
                raw(Array(bytes[offset..<min(bytes.count, offset + size)]))
                offset += size
                usleep(delayMicros)
            }
        }

        /// Guards `fd` between the stub thread (which closes it) and ``close()`` from a test:
        /// a shutdown on a stale descriptor number would hit another test's socket.
        fileprivate let fdLock = NSLock()

        public func close() {
            fdLock.lock(); defer { fdLock.unlock() }
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        }

        fileprivate func closeDescriptor() {
            fdLock.lock(); defer { fdLock.unlock() }
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }
    }

    public let port: UInt16
    public var address: RemoteAddress { .tcp("127.0.0.1", port) }
    /// Extra `qSupported` features to announce (e.g. `QStartNoAckMode+`).
    public let features: String
    private let listenFD: Int32
    private let handler: (Session, String) -> Void
    private let lock = NSLock()
    private var _requests: [String] = []
    private var _controls: [UInt8] = []
    private var _stopping = false
    private let finished = DispatchSemaphore(value: 0)
    public let session = Session()

    /// Packets the client sent, in order (retransmissions included).
    public var requests: [String] { lock.lock(); defer { lock.unlock() }; return _requests }
    /// The `+`, `-` and 0x03 bytes the client sent, in order.
    public var controls: [UInt8] { lock.lock(); defer { lock.unlock() }; return _controls }

    /// Starts listening. `greeting` is sent as soon as the client connects (an unsolicited
    /// stop reply, say).
    public init(features: String = "PacketSize=1000", greeting: [UInt8] = [],
         handler: @escaping (Session, String) -> Void) throws {
        self.features = features
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in
                bind(fd, s, len) == 0 && listen(fd, 1) == 0 && getsockname(fd, s, &len) == 0
            }
        }
        listenFD = fd
        port = UInt16(bigEndian: sa.sin_port)
        let thread = Thread { [self] in
            run(greeting: greeting)
            finished.signal()
        }
        thread.start()
    }

    deinit { stop() }

    private var stopping: Bool { lock.lock(); defer { lock.unlock() }; return _stopping }

    /// Closes the sockets and waits (bounded) for the thread to end.
    public func stop() {
        lock.lock()
        let already = _stopping
        _stopping = true
        lock.unlock()
        if already { return }
        session.close()
        _ = finished.wait(timeout: .now() + 3)
        close(listenFD)
    }

    private func run(greeting: [UInt8]) {
        var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
        var waited = 0
        while poll(&pfd, 1, 100) == 0 {
            waited += 100
            if stopping || waited > 20_000 { return }
        }
        let client = accept(listenFD, nil, nil)
        guard client >= 0 else { return }
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(4))
        session.fdLock.lock()
        session.fd = client
        session.fdLock.unlock()
        defer { session.closeDescriptor() }
        if !greeting.isEmpty { session.raw(greeting) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !stopping {
            var cfd = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            if poll(&cfd, 1, 100) == 0 { continue }
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            buffer += chunk[0..<n]
            while let first = buffer.first {
                if first == UInt8(ascii: "+") || first == 0x03 {
                    record(control: first)
                    buffer.removeFirst()
                    if first == 0x03 { session.onInterrupt?() }
                } else if first == UInt8(ascii: "-") {
                    record(control: first)
                    buffer.removeFirst()
                    if let onNak = session.onNak {
                        onNak()
                    } else if session.corruptResends > 0 {
                        session.corruptResends -= 1
                        var frame = session.lastFrame
                        frame[frame.count - 1] = frame[frame.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
                        session.raw(frame)
                    } else {
                        session.raw(session.lastFrame)
                    }
                } else if first == UInt8(ascii: "$") {
                    guard let hash = buffer.firstIndex(of: UInt8(ascii: "#")), hash + 2 < buffer.count else { break }
                    let payload = Array(buffer[1..<hash])
                    buffer.removeFirst(hash + 3)
                    let text = String(decoding: payload, as: UTF8.self)
                    lock.lock(); _requests.append(text); lock.unlock()
                    answer(text)
                } else {
                    buffer.removeFirst()
                }
            }
        }
    }

    private func record(control: UInt8) {
        lock.lock(); _controls.append(control); lock.unlock()
    }

    private func answer(_ request: String) {
        switch request {
        case let r where r.hasPrefix("qSupported"): session.reply(features)
        case "QStartNoAckMode" where features.contains("QStartNoAckMode+"):
            session.reply("OK")
            session.ackMode = false
        case "?": session.reply("S05")
        case "vCont?": session.reply("")
        default: handler(session, request)
        }
    }

    /// `$payload#cc` with the payload as given (no escaping: the tests craft it).
    public static func frameVerbatim(_ payload: [UInt8]) -> [UInt8] {
        let sum = payload.reduce(UInt8(0), &+)
        return [UInt8(ascii: "$")] + payload + [UInt8(ascii: "#")] + Array(Hex.string([sum]).utf8)
    }

    /// A deterministic memory image for fake reads: byte at address `a` is `(a * 7 + a >> 8) & 0xFF`.
    public static func patternByte(_ a: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: a &* 7 &+ (a >> 8)) }

    /// Parses `mADDR,LEN` into numbers.
    public static func parseRead(_ request: String) -> (UInt64, Int)? {
        guard request.hasPrefix("m") else { return nil }
        let parts = request.dropFirst().split(separator: ",")
        guard parts.count == 2, let a = Hex.number(parts[0]), let n = Hex.number(parts[1]) else { return nil }
        return (a, Int(n))
    }

    /// The hex reply a correct stub gives to `request` (`m`) over the pattern image.
    public static func patternReply(_ request: String) -> String {
        guard let (a, n) = parseRead(request) else { return "E01" }
        return Hex.string((0..<UInt64(n)).map { patternByte(a &+ $0) })
    }
}
