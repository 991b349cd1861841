import Glibc
import GDBRemote

/// Brings a stopped Linux guest to a moment at which its allocators' lists are whole: no vCPU
/// inside ``AllocatorText`` and none of the page allocator's locks held. When the guest is
/// not there, it runs briefly (a few milliseconds) and is stopped again, at most
/// ``attempts`` times (docs/linux-checks.md "Busy guests").
public struct LinuxSettler {
    public var target: RemoteTarget
    public var linux: LinuxKernelTarget
    public var text: AllocatorText
    /// How many stops to look at before giving up.
    public var attempts = 40

    public init(target: RemoteTarget, linux: LinuxKernelTarget) {
        self.target = target
        self.linux = linux
        text = AllocatorText(symbols: linux.symbols)
    }

    /// Why the guest is not at a settled point now; empty when it is. `notes` collects what
    /// could not be looked at (locks BTF lacks).
    public func busyReasons(notes: inout [String]) throws -> [String] {
        var reasons: [String] = []
        let threads = try target.threadIDs()
        let current = target.lastStop?.thread ?? threads.first
        for (cpu, thread) in threads.enumerated() {
            let rip = threads.count == 1 || current == nil
                ? try target.register("rip") : try target.register("rip", ofThread: thread, restoring: current!)
            if let function = text.function(containing: rip) {
                reasons.append("cpu \(cpu) is inside \(function.name) (rip 0x\(String(rip, radix: 16)))")
            }
        }
        reasons += try linux.heldAllocatorLocks(notes: &notes)
        return reasons
    }

    /// What ``settle(mayRun:)`` found.
    public struct Outcome: Sendable {
        /// The stops looked at (1: the guest was settled when attached).
        public var stops: Int
        public var notes: [String]
    }

    /// Settles the guest, which must be stopped. With `mayRun` false a guest that is not
    /// settled is not run: ``LinuxSettleError/stoppedInside(_:)`` says where it is.
    public func settle(mayRun: Bool) throws -> Outcome {
        var notes: [String] = []
        var reasons = try busyReasons(notes: &notes)
        if reasons.isEmpty { return Outcome(stops: 1, notes: notes) }
        guard mayRun else { throw LinuxSettleError.stoppedInside(reasons) }
        for stop in 2...max(2, attempts) {
            try target.resume()
            // a few milliseconds of guest time: long enough to leave a list operation
            usleep(useconds_t(2_000 + Int.random(in: 0..<8_000)))
            try target.interrupt(timeout: target.requestTimeout)
            notes.removeAll()
            reasons = try busyReasons(notes: &notes)
            if reasons.isEmpty { return Outcome(stops: stop, notes: notes) }
        }
        throw LinuxSettleError.unsettled(stops: max(2, attempts), last: reasons)
    }
}

/// Why a Linux guest could not be read at a settled point.
public enum LinuxSettleError: Error, CustomStringConvertible {
    /// Found stopped mid-change, and not allowed to run.
    case stoppedInside([String])
    /// Still mid-change after `stops` stops.
    case unsettled(stops: Int, last: [String])

    public var description: String {
        switch self {
        case .stoppedInside(let reasons):
            return "the guest was found stopped in the middle of an allocator change (\(reasons.joined(separator: "; "))): its lists may be half-updated, so no verdict; pass --settle to let it run to a settled point (it is stopped again there)"
        case .unsettled(let stops, let last):
            return "the guest did not settle in \(stops) stops (the last: \(last.joined(separator: "; "))): no verdict"
        }
    }
}
