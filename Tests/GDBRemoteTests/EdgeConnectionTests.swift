import Foundation
import Glibc
import GDBRemote
import StubSupport
import Testing

/// Stubs that misbehave at the first contact, and waits the caller abandons.
@Suite("Connection edges")
struct EdgeConnectionTests {
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

    @Test func aStubThatAnswersIsNotTakenForHeld() throws {
        let stub = try ScriptedStub { _, _ in }
        defer { stub.stop() }
        // The greeting bound only applies to total silence: an answering stub connects as before.
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

/// Peers that are no GDB stub: the error says what they sent, not "another debugger holds
/// it" or "the stub is hung".
@Suite("Not a GDB stub")
struct NotAStubTests {
    static func connectError(_ listener: GreetingListener) -> GDBRemoteError? {
        do {
            _ = try RemoteTarget.connect(to: .tcp("127.0.0.1", listener.port), timeout: .seconds(5), greeting: .seconds(2))
            return nil
        } catch {
            return error as? GDBRemoteError
        }
    }

    @Test func anSSHServerIsNamedByItsBanner() throws {
        let listener = try GreetingListener(greeting: Array("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n".utf8),
                                            lineReply: Array("Invalid SSH identification string.\r\n".utf8))
        let error = try #require(Self.connectError(listener))
        // The server's answer to our request line may or may not have come before the
        // connection gave up (a loaded host): the banner is named either way, with `…` only
        // when more followed it.
        let banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
        let address = "127.0.0.1:\(listener.port)"
        #expect(error == .notAStub(address: address, sent: banner) || error == .notAStub(address: address, sent: banner + "…"), "\(error)")
        #expect(error.description.contains("is not a GDB stub: it sent 'SSH-2.0-OpenSSH_9.2p1"), "\(error)")
    }

    @Test func anHTTPServerAnswersTheLineEndAndIsNamed() throws {
        // silent until a whole request line came, as HTTP servers are
        let listener = try GreetingListener(greeting: [], lineReply: Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8))
        let error = try #require(Self.connectError(listener))
        #expect(error.description.contains("is not a GDB stub: it sent 'HTTP/1.1 400 Bad Request"), "\(error)")
        #expect(!error.description.contains("another debugger"), "\(error)")
    }

    @Test func aServerEchoingTheRequestIsStillNamed() throws {
        // Python's http.server quotes the request line in its error page: a well-formed
        // `$qSupported…#cc` inside HTML (seen once under load: it parsed as the reply)
        let packet = PacketCodec.frame(Array("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386".utf8))
        let page = Array("<!DOCTYPE HTML>\n<p>Message: Bad HTTP/0.9 request type (&#x27;".utf8) + packet + Array("&#x27;).</p>\n".utf8)
        let listener = try GreetingListener(greeting: [], lineReply: page)
        let error = try #require(Self.connectError(listener))
        #expect(error.description.contains("is not a GDB stub: it sent '<!DOCTYPE HTML>"), "\(error)")
    }

    @Test func randomBytesAreShownAsTheyCame() throws {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<200).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // the first byte is what tells: make it one no stub starts with (not + - $ %)
        while "+-$%".utf8.contains(bytes[0]) { bytes[0] = UInt8.random(in: 0...255, using: &generator) }
        let listener = try GreetingListener(greeting: bytes)
        let error = try #require(Self.connectError(listener))
        guard case .notAStub(_, let sent) = error else {
            Issue.record("expected notAStub, got \(error)")
            return
        }
        #expect(sent == GDBRemoteError.printable(Array(bytes.prefix(64))), "\(sent)")
        #expect(sent.hasSuffix("…") && !sent.isEmpty)
    }
}
