import Foundation
import GDBRemote
import KernelSession
import Testing

/// What a session does with the guest at the end, by how it found it and by policy.
@Suite("Restore the guest")
struct RestoreTests {
    static func detached(running: Bool, policy: RestorePolicy, failing: Bool = false) throws -> Bool {
        let guest = try FakeGuest(running: running)
        let session = try GuestSession.attach(kernel: guest.kernel, to: guest.stub.address, timeout: .seconds(3), policy: policy)
        #expect(session.found == (running ? .running : .stopped))
        struct Failure: Error {}
        _ = try? session.read { s -> UInt64 in
            if failing { throw Failure() }
            return try s.memory.readU64(at: FakeGuest.sequenceAddress)
        }
        #expect(session.isRestored)
        usleep(100_000)
        return guest.stub.requests.contains("D;1")
    }

    @Test func asFoundResumesOnlyARunningGuest() throws {
        #expect(try Self.detached(running: true, policy: .asFound))
        #expect(try !Self.detached(running: false, policy: .asFound))
        #expect(try Self.detached(running: true, policy: .asFound, failing: true))
        #expect(try !Self.detached(running: false, policy: .asFound, failing: true))
    }

    @Test func overrides() throws {
        #expect(try Self.detached(running: false, policy: .resume))
        #expect(try !Self.detached(running: true, policy: .leaveStopped))
    }
}
