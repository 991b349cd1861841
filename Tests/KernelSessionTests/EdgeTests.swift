import Foundation
import GDBRemote
import KernelLayouts
import KernelSession
import StubSupport
import Testing

/// Bad stubs at the edges: each ends attaching with a one-line error that says what to do,
/// well within its bound, never a hang.
@Suite("Bad stubs")
struct EdgeTests {
    static func attachError(_ address: RemoteAddress, timeout: Duration = .seconds(2)) throws -> (SessionError, Duration) {
        let kernel = try KernelImage(path: FakeGuest.kernelPath)
        let start = ContinuousClock.now
        do {
            _ = try GuestSession.attach(kernel: kernel, to: address, timeout: timeout)
        } catch {
            return (error, ContinuousClock.now - start)
        }
        throw SessionError.other("attached")
    }

    @Test func aStubThatRefuses() throws {
        let listener = try UnansweredListener()
        let port = listener.port
        close(listener.fd)   // nothing listens there any more
        let (error, took) = try Self.attachError(.tcp("127.0.0.1", port))
        #expect(error.description == "cannot connect to 127.0.0.1:\(port): connection refused — is QEMU running with -gdb tcp:127.0.0.1:\(port)?")
        #expect(took < .seconds(1))
    }

    @Test func aStubThatAcceptsAndNeverAnswers() throws {
        let listener = try UnansweredListener()
        let (error, took) = try Self.attachError(.tcp("127.0.0.1", listener.port), timeout: .seconds(30))
        #expect(error.description.contains("already in use by another debugger"), "\(error)")
        #expect(took < .seconds(5), "the greeting bound, not the 30 s timeout")
    }

    @Test func aStubThatDiesMidPacket() throws {
        let stub = try ScriptedStub { s, r in
            if r.hasPrefix("m") { s.raw("+$4b4d"); s.close() } else { s.reply("") }
        }
        defer { stub.stop() }
        let (error, took) = try Self.attachError(stub.address)
        #expect(error.description.contains("closed the connection") && error.description.contains("middle of a packet"), "\(error)")
        #expect(took < .seconds(2))
    }

    @Test func aStubThatAnswersGarbage() throws {
        let stub = try ScriptedStub { s, r in s.reply(r.hasPrefix("m") ? "this is not hex" : "") }
        defer { stub.stop() }
        let (error, took) = try Self.attachError(stub.address)
        #expect(error.description.contains("malformed reply"), "\(error)")
        #expect(took < .seconds(2))
    }

    @Test func aStubThatAnswersAHugePacket() throws {
        let stub = try ScriptedStub { s, r in s.reply(r.hasPrefix("m") ? String(repeating: "ab", count: 1 << 20) : "") }
        defer { stub.stop() }
        let (error, took) = try Self.attachError(stub.address)
        #expect(error.description.contains("more than the limit"), "\(error)")
        #expect(took < .seconds(3))
    }

    @Test func aStubThatStopsAnsweringMidRead() throws {
        // Answers the descriptor, then goes silent: the request timeout bounds it.
        let guest = try FakeGuest(running: true)
        let session = try GuestSession.attach(kernel: guest.kernel, to: guest.stub.address, timeout: .seconds(1))
        let start = ContinuousClock.now
        #expect(throws: SessionError.self) {
            try session.read { s in try s.memory.read(at: 0x1000, count: 4) }   // unmapped: E14
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
