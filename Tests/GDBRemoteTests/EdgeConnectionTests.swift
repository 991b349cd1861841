import Foundation
import Glibc
import GDBRemote
import Testing

/// Stubs that misbehave at the first contact, and waits the caller abandons.
@Suite("Connection edges")
struct EdgeConnectionTests {
    /// A listener that never accepts: a client's connect succeeds (the kernel queues it) and
    /// nothing answers — what a second client of QEMU's gdbstub sees while another debugger holds it.
    final class UnansweredListener {
        let fd: Int32
        let port: UInt16
        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.fd = fd
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &sa) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in
                    bind(fd, s, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, s, &len) == 0
                }
            }
            guard ok else {
                close(fd)
                throw GDBRemoteError.io(operation: "listen", errno: errno, reason: "")
            }
            port = UInt16(bigEndian: sa.sin_port)
        }
        deinit { close(fd) }

        /// Accepts the queued connection and returns what the client had sent.
        func acceptAndRead() -> String {
            let c = accept(fd, nil, nil)
            guard c >= 0 else { return "" }
            defer { close(c) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            var text = ""
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n <= 0 { break }
                text += String(decoding: buffer[0..<n], as: UTF8.self)
            }
            return text
        }
    }

    @Test func aStubThatNeverAnswersIsNamedAsHeldByAnotherDebugger() throws {
        let listener = try UnansweredListener()
        let start = ContinuousClock.now
        do {
            _ = try RemoteTarget.connect(to: .tcp("127.0.0.1", listener.port), timeout: .seconds(10),
                                         greeting: .milliseconds(500))
            Issue.record("connected to a listener that never answers")
        } catch let error as GDBRemoteError {
            #expect(error == .noAnswer(address: "127.0.0.1:\(listener.port)", after: .milliseconds(500)))
            #expect(error.description.contains("already in use by another debugger"))
        }
        #expect(ContinuousClock.now - start < .seconds(3), "bounded by the greeting, not the 10 s timeout")
        // Queued behind qSupported: a detach, so that a stub serving the abandoned connection
        // later lets the guest run instead of stopping it for nobody.
        let sent = listener.acceptAndRead()
        #expect(sent.contains("$qSupported") && sent.contains("$D;1#"), "\(sent)")
    }

    @Test func aStubThatOnlyAcksIsSlowNotHeld() throws {
        let stub = try ScriptedStub { _, _ in }
        defer { stub.stop() }
        // ScriptedStub answers qSupported itself; a stub that sent a greeting is not "held".
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(3), greeting: .milliseconds(500))
        #expect(target.features.packetSize == 0x1000)
    }

    @Test func aWaitEndsPromptlyWhenTheCallerAsksAndTheConnectionRecovers() throws {
        // The stub answers reads only after 1.5 s: the caller gives up after ~200 ms.
        let stub = try ScriptedStub { s, r in
            if r.hasPrefix("m") {
                usleep(1_500_000)
                s.reply(ScriptedStub.patternReply(r))
            } else {
                s.reply("OK")
            }
        }
        defer { stub.stop() }
        let target = try RemoteTarget.connect(to: stub.address, timeout: .seconds(5))
        let start = ContinuousClock.now
        target.connection.shouldStop = { ContinuousClock.now - start > .milliseconds(200) }
        #expect(throws: GDBRemoteError.interrupted(request: "m1000,4")) {
            try target.readMemory(at: 0x1000, count: 4)
        }
        #expect(ContinuousClock.now - start < .milliseconds(1000))
        // The late reply is drained; the next request gets its own reply, not the stale one.
        target.connection.shouldStop = nil
        #expect(target.connection.unansweredRequests == 1)
        try target.resynchronize(timeout: .seconds(4))
        try target.expectOK("Z0,2000,1")
    }
}
