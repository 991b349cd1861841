import Foundation
import GDBRemote
import KernelLayouts
import KernelSession
import Testing

/// Settling to an operation boundary, against a scripted stub that plays the kernel's contract
/// (the real kernel's `kmem_checkpoint` stands in for the end-of-operation function, so these
/// tests do not depend on which kernel build is around).
@Suite("Settle to an operation boundary")
struct SettleTests {
    static let boundary = OperationBoundary(busyKey: "BUSY", sequenceKey: "SEQUENCE", endSymbol: "kmem_checkpoint")

    static func attach(_ guest: FakeGuest) throws -> GuestSession {
        try GuestSession.attach(kernel: guest.kernel, to: guest.stub.address, timeout: .seconds(3))
    }

    /// Requests that change the guest beyond a breakpoint: memory and register writes.
    static func writes(_ requests: [String]) -> [String] {
        requests.filter { ["M", "X", "G", "P"].contains($0.prefix(1)) }
    }

    @Test func betweenOperationsNothingRuns() throws {
        let guest = try FakeGuest(running: true, busy: 0)
        let session = try Self.attach(guest)
        let point = try session.read { try $0.settle(within: .seconds(2), boundary: Self.boundary) }
        #expect(point == SettlePoint(sequence: 4242, betweenOperations: true, ranToOperationEnd: false))
        #expect(point.text == "stopped at sequence 4242, between operations")
        #expect(!guest.stub.requests.contains { $0.hasPrefix("Z") || $0 == "c" })
        #expect(Self.writes(guest.stub.requests).isEmpty)
    }

    @Test func insideAnOperationItRunsToItsEnd() throws {
        let guest = try FakeGuest(running: true, sequence: 77, busy: 2)
        let session = try Self.attach(guest)
        let end = try guest.kernel.symbol("kmem_checkpoint").address.rawValue
        let point = try session.read { try $0.settle(within: .seconds(2), boundary: Self.boundary) }
        #expect(point.betweenOperations && point.ranToOperationEnd)
        #expect(point.sequence == 78)
        #expect(guest.u64(FakeGuest.busyAddress) == 0)
        let requests = guest.stub.requests
        let z = String(end, radix: 16)
        #expect(requests.contains("Z0,\(z),1") && requests.contains("z0,\(z),1"), "the breakpoint is set and removed: \(requests)")
        #expect(requests.firstIndex(of: "z0,\(z),1")! < requests.firstIndex(of: "D;1")!, "removed before detaching")
        #expect(Self.writes(requests).isEmpty, "no memory or register writes: \(requests)")
    }

    @Test func aGuestThatNeverLeavesTheOperationIsStuckWithNoVerdict() throws {
        let guest = try FakeGuest(running: true, sequence: 900, busy: 1, stuck: true)
        let session = try Self.attach(guest)
        let start = ContinuousClock.now
        do {
            _ = try session.read { try $0.settle(within: .milliseconds(500), boundary: Self.boundary) }
            Issue.record("settled a stuck guest")
        } catch {
            guard case .stuck(let sequence, let busy, _) = error else { Issue.record("\(error)"); return }
            #expect(sequence == 900 && busy == 1)
            #expect(error.description.hasPrefix("the guest is stuck inside allocator operation 900"))
        }
        #expect(ContinuousClock.now - start < .seconds(3))
        let requests = guest.stub.requests
        #expect(requests.contains { $0.hasPrefix("z0,") }, "the breakpoint is removed: \(requests)")
        #expect(requests.last == "D;1", "the running guest is let go: \(requests)")
    }

    @Test func aGuestFoundStoppedInsideAnOperationIsNotRunUnlessAllowed() throws {
        let guest = try FakeGuest(running: false, sequence: 55, busy: 1)
        let session = try Self.attach(guest)
        do {
            _ = try session.read { try $0.settle(within: .seconds(2), boundary: Self.boundary) }
            Issue.record("ran a guest found stopped")
        } catch {
            guard case .stoppedInsideOperation(55, 1) = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("--settle"))
        }
        #expect(!guest.stub.requests.contains { $0.hasPrefix("Z") || $0 == "c" || $0.hasPrefix("D") }, "\(guest.stub.requests)")

        // Allowed: it runs to the end of the operation and is left stopped there.
        let allowed = try FakeGuest(running: false, sequence: 55, busy: 1)
        let point = try Self.attach(allowed).read { try $0.settle(within: .seconds(2), boundary: Self.boundary, runStoppedGuest: true) }
        #expect(point.ranToOperationEnd && point.sequence == 56)
        usleep(100_000)
        #expect(!allowed.stub.requests.contains { $0.hasPrefix("D") }, "left stopped: \(allowed.stub.requests)")

        // --resume: it will run anyway, so settling may run it.
        let resumed = try FakeGuest(running: false, sequence: 55, busy: 1)
        let session3 = try GuestSession.attach(kernel: resumed.kernel, to: resumed.stub.address, timeout: .seconds(3), policy: .resume)
        #expect(try session3.read { try $0.settle(within: .seconds(2), boundary: Self.boundary) }.ranToOperationEnd)
    }

    @Test func anOldKernelWithoutBusyIsReadWithAWarning() throws {
        let guest = try FakeGuest(running: false, busy: nil)
        let session = try Self.attach(guest)
        let point = try session.read { try $0.settle(boundary: Self.boundary) }
        #expect(!point.betweenOperations)
        #expect(session.warnings.count == 1 && session.warnings[0].contains("no BUSY word"))
        #expect(!guest.stub.requests.contains { $0.hasPrefix("D") }, "a stopped guest is not resumed: \(guest.stub.requests)")
    }

    @Test func theBundledKernelsEndFunctionIsNamedWhenMissing() throws {
        // A kernel whose ELF lacks the end-of-operation function (one from before the busy
        // word): settling names the missing symbol instead of guessing. The bundled kernel has
        // kmem_op_end, so the boundary here names a function no build has.
        let guest = try FakeGuest(running: true, busy: 1)
        #expect((try? guest.kernel.symbol("kmem_op_end")) != nil, "the bundled kernel publishes kmem_op_end")
        let missing = OperationBoundary(busyKey: "BUSY", sequenceKey: "SEQUENCE", endSymbol: "kmem_op_end_of_no_build")
        try #require((try? guest.kernel.symbol(missing.endSymbol)) == nil)
        let session = try Self.attach(guest)
        do {
            _ = try session.read { try $0.settle(within: .seconds(2), boundary: missing) }
            Issue.record("settled without the end-of-operation function")
        } catch {
            guard case .image(.symbolNotFound(let query, _)) = error else { Issue.record("\(error)"); return }
            #expect(query == missing.endSymbol)
            #expect(error.description.contains(missing.endSymbol), "\(error.description)")
        }
        #expect(!guest.stub.requests.contains { $0.hasPrefix("Z") || $0 == "c" }, "no breakpoint, no run: \(guest.stub.requests)")
    }

    /// Several CPUs whose threads cannot be told apart (no thread's GS base names a CPU: this
    /// stub has no registers): the busy CPU cannot be run alone, so the whole guest runs (a
    /// plain continue, the settle before issue 19), and a warning says the read is later than the stop.
    @Test func severalCPUsWithoutAThreadForTheBusyOneRunTheWholeGuestWithAWarning() throws {
        let guest = try FakeGuest(running: true, sequence: 300, busy: 2, cpuRows: [0, 2, 0])
        let session = try Self.attach(guest)
        #expect(session.bootCPUThread == "p01.01")
        let point = try session.read { try $0.settle(within: .seconds(2)) }
        #expect(point.betweenOperations && point.ranToOperationEnd && point.cpusRun == nil)
        #expect(point.text == "stopped at sequence 301, between operations (ran to the end of the operation in progress)")
        let warning = session.warnings.first { $0.contains("no thread of the stub runs cpu 1") }
        #expect(warning?.contains("every CPU ran") == true && warning?.contains("later than the moment") == true, "\(session.warnings)")
        let requests = guest.stub.requests
        #expect(requests.contains("c") && !requests.contains { $0.hasPrefix("vCont;c:") }, "\(requests)")
        #expect(Self.writes(requests).isEmpty)

        // found stopped with a CPU inside (its row, though BUSY reads 0): refused, nothing run
        let stopped = try FakeGuest(running: false, sequence: 7, busy: 0, cpuRows: [0, 0, 1])
        let stoppedSession = try Self.attach(stopped)
        do {
            _ = try stoppedSession.read { try $0.settle(within: .seconds(2)) }
            Issue.record("ran a guest found stopped")
        } catch {
            guard case .stoppedInsideOperation(7, 1) = error else { Issue.record("\(error)"); return }
        }
        #expect(!stopped.stub.requests.contains { $0.hasPrefix("Z") || $0 == "c" || $0.hasPrefix("vCont;") }, "\(stopped.stub.requests)")
    }
}
