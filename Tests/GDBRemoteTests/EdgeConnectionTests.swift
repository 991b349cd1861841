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
