import Foundation
import Glibc
import GDBRemote
import QEMULauncher
import Testing

/// What a Linux test boots: the kernel version, its command line, CPUs, NUMA nodes, KASLR and
/// /init's mode. Tests that need the same configuration share one guest (``GuestPool``).
struct GuestConfiguration: Hashable, Sendable, CustomStringConvertible {
    /// `KMEMSCOPE_LINUX_VERSION`: "6.1", "6.1-rt", "6.12".
    var version = "6.1"
    var kaslr = false
    var cpus = 1
    var numaNodes = 1
    /// /init keeps the page and slab allocators busy (`kmemscope.busy`).
    var busy = false
    /// Added to the kernel command line (`kmemscope.slabticks`, `slub_debug=FZP`).
    var append = ""
    /// Another boot of the same options: for tests that each need the guest about as fresh as
    /// the /proc it printed at `ready`. The two-node guest's node-1 free lists drift from that
    /// print minutes after boot (measured: 12 blocks on one list when LinuxCommandsTests ran
    /// after LinuxNUMATests on one boot, where it allows 2), so each of the two suites boots its own,
    /// right before its test (never warmed ahead: an idle two-node guest drifts too).
    var copy = 0

    /// Debian's 6.1, idle after `ready`, 1 CPU, no KASLR.
    static let plain = GuestConfiguration()
    /// KASLR on and every cache red-zoned and poisoned: LinuxVerifyTests' KASLR test and
    /// LinuxSlubTests' slub_debug test need one each and neither needs the other's absent (the
    /// KASLR test reads buddyinfo, the slub_debug test finds its addresses through the decoder),
    /// so one boot serves both.
    static let kaslrSlubDebug = GuestConfiguration(kaslr: true, append: slubDebugAppend)
    /// Every cache red-zoned and poisoned (FZP); three also store their users (U), so SLUB keeps
    /// their full slabs on `kmem_cache_node.full` for the full-slab walk (the others keep no
    /// SLAB_STORE_USER, which the object-padding test needs: a listed cache gets its block's
    /// flags, not the global ones, mm/slub.c kmem_cache_flags).
    static let slubDebugAppend = "slub_debug=FZP;FZPU,kmalloc-64,kmalloc-32,dentry"
    /// LinuxNUMATests' two-node guest; LinuxCommandsTests boots its own (``copy``).
    static let twoNodes = GuestConfiguration(numaNodes: 2)
    static let twoNodesForCommands = GuestConfiguration(numaNodes: 2, copy: 1)
    static let slabTicks = GuestConfiguration(append: "kmemscope.slabticks")
    static func busy(cpus: Int) -> GuestConfiguration { GuestConfiguration(cpus: cpus, busy: true) }
    /// 6.1's is ``kaslrSlubDebug``.
    static func slubDebug(_ version: String) -> GuestConfiguration {
        version == "6.1" ? kaslrSlubDebug : GuestConfiguration(version: version, append: slubDebugAppend)
    }
    static func version(_ version: String) -> GuestConfiguration { GuestConfiguration(version: version) }

    var description: String {
        var parts = ["linux \(version)"]
        if kaslr { parts.append("kaslr") }
        if numaNodes > 1 { parts.append("\(numaNodes) nodes") } else if cpus > 1 { parts.append("-smp \(cpus)") }
        if busy { parts.append("busy") }
        if !append.isEmpty { parts.append(append) }
        if copy > 0 { parts.append("copy \(copy)") }
        return parts.joined(separator: ", ")
    }

    /// How many leases the Linux suites take of this configuration in one whole run: the pool
    /// stops the guest once that many are returned, so a guest no later test needs does not
    /// hold memory (or, busy, CPU) for the rest of the run. A hint only: a run of some suites
    /// never reaches it (the guest then stops when the process ends), and a lease after the
    /// guest stopped boots it again.
    var expectedLeases: Int {
        // LinuxVerifyTests, LinuxCommandsTests (6.1), LinuxNUMATests (the partial verdict),
        // LinuxVmcoreTests, LinuxDecodeTests, LinuxJSONTests, GuestBootTests, LinuxReportTests
        if self == .plain { return 7 + (LinuxReportTests.runs ? 1 : 0) }
        // LinuxCommandsTests and LinuxVersionTests
        if self == .version("6.12") { return 2 }
        // LinuxBusyGuestTests: no false verdict at -smp 2, and stopped inside the allocator
        if self == .busy(cpus: 2) { return 2 }
        // LinuxVerifyTests (KASLR) and LinuxSlubTests (slub_debug)
        if self == .kaslrSlubDebug { return 2 }
        return 1
    }
}

/// One guest per ``GuestConfiguration`` for the whole test process: booted by the first test
/// that leases it, shared by every later one, stopped after its last expected lease or when
/// the process ends (`atexit`; the guest's watchdog too, should the process die).
///
/// A lease is exclusive: its holder may stop the guest, write into its memory or run it on;
/// it puts back what it changed, and ``GuestLease/release()`` lets the guest run again (every
/// test finds it running, as a fresh boot is). Tests that lease the same guest therefore run
/// one after another; tests of different guests run in parallel.
enum GuestPool {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var guests: [GuestConfiguration: SharedGuest] = [:]
    nonisolated(unsafe) private static var running: [ObjectIdentifier: LinuxGuest] = [:]
    nonisolated(unsafe) private static var atexitRegistered = false
    /// Boots at once (a restore from ``GuestStates`` goes through the gate too, but takes
    /// about a second): each is TCG on a shared machine (about 9 s of CPU, then /init's quiet
    /// wait of up to 15 s, which costs none); more at a time only slows each. Two, the cores
    /// CI has: with four, in a whole `make test` (the bundled kernel's QEMU suites running
    /// beside, and these tests' waits holding no thread, so more of those run at once than
    /// before the pool) the second wave of boots took over 240 s to `ready` and failed.
    static let boots = AsyncGate(limit: 2)

    /// The shared guest of `configuration`, held exclusively until the lease is released.
    /// `warming`: the configurations the suite's later tests lease, booted now in the
    /// background (idle guests only: a busy one would spend the CPU the others need) so a
    /// serialized suite does not wait for each of its boots in turn.
    static func lease(_ configuration: GuestConfiguration, warming: [GuestConfiguration] = []) async throws -> GuestLease {
        for other in warming where other != configuration && !other.busy {
            let s = shared(other)
            Task { await s.warm() }
        }
        return GuestLease(guest: try await shared(configuration).acquire(), shared: shared(configuration))
    }

    private static func shared(_ configuration: GuestConfiguration) -> SharedGuest {
        lock.withLock {
            if !atexitRegistered {
                atexitRegistered = true
                atexit { GuestPool.stopAll() }
            }
            if let existing = guests[configuration] { return existing }
            let made = SharedGuest(configuration)
            guests[configuration] = made
            return made
        }
    }

    static func register(_ guest: LinuxGuest) {
        lock.withLock { running[ObjectIdentifier(guest)] = guest }
    }

    static func stop(_ guest: LinuxGuest) {
        _ = lock.withLock { running.removeValue(forKey: ObjectIdentifier(guest)) }
        guest.stop()
    }

    /// Every guest still running (at exit).
    static func stopAll() {
        let all = lock.withLock { () -> [LinuxGuest] in
            defer { running.removeAll() }
            return Array(running.values)
        }
        for guest in all { guest.stop() }
    }
}

/// An exclusive hold on a shared guest (``GuestPool/lease(_:)``).
final class GuestLease: Sendable {
    let guest: LinuxGuest
    private let shared: SharedGuest

    init(guest: LinuxGuest, shared: SharedGuest) {
        self.guest = guest
        self.shared = shared
    }

    /// Lets the guest run, as the next holder expects to find it (a test may leave it stopped:
    /// connecting and detaching resumes it, and removes any breakpoint left), then hands it on.
    /// A guest whose stub no longer answers is stopped: the next lease boots a fresh one, so one
    /// failing test does not fail the others that share its configuration.
    func release() {
        var broken = false
        do {
            // a few tries, not connect()'s fifty: a stub that still serves another client
            // (a process the test left behind) never answers
            var target: RemoteTarget?
            var lastError: Error?
            for _ in 0..<3 where target == nil {
                do { target = try RemoteTarget.connect(to: .unix(guest.socketPath), timeout: .seconds(10)) }
                catch { lastError = error; usleep(200_000) }
            }
            guard let target else { throw lastError ?? GDBRemoteError.connectionRefused(address: "unix:" + guest.socketPath) }
            try target.detach()
        } catch {
            broken = true
            Issue.record("the shared guest (\(shared.configuration)) could not be resumed; it is stopped, the next test boots another: \(error)")
        }
        let shared = shared
        Task { await shared.release(broken: broken) }
    }
}

/// One configuration's guest and its lock: ``acquire()`` waits (suspended, holding no thread)
/// while another test holds it, and boots the guest when there is none.
actor SharedGuest {
    nonisolated let configuration: GuestConfiguration
    private var guest: LinuxGuest?
    private var failure: Error?
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var returned = 0

    init(_ configuration: GuestConfiguration) { self.configuration = configuration }

    func acquire() async throws -> LinuxGuest {
        if held {
            await withCheckedContinuation { waiters.append($0) }   // handed over by unlock(): held stays true
        } else {
            held = true
        }
        do {
            return try await running(priority: configuration.expectedLeases)
        } catch {
            unlock()
            throw error
        }
    }

    /// Boots the guest if none runs and no test holds it, taking no lease (``GuestPool/lease(_:warming:)``).
    func warm() async {
        // not once its last expected lease is back (it was stopped for good)
        guard !held, guest == nil, failure == nil, returned < configuration.expectedLeases else { return }
        held = true
        _ = try? await running(priority: -1)   // a failure is kept for the lease to report
        unlock()
    }

    /// The running guest, booted first if there is none (held by the caller).
    private func running(priority: Int) async throws -> LinuxGuest {
        if let failure { throw failure }
        if let guest, guest.qemu.status == nil { return guest }
        if let guest { GuestPool.stop(guest) }  // it exited: boot again
        guest = nil
        let booted = try await boot(priority: priority)
        guest = booted
        return booted
    }

    private func boot(priority: Int) async throws -> LinuxGuest {
        // the guest most tests wait for boots first; warming boots last
        await GuestPool.boots.enter(priority: priority)
        defer { Task { await GuestPool.boots.leave() } }
        let c = configuration
        for attempt in 1...2 {
            do {
                let booted = try LinuxGuest.boot(kaslr: c.kaslr, cpus: c.cpus, busy: c.busy, version: c.version,
                                                 numaNodes: c.numaNodes, append: c.append)
                GuestPool.register(booted)
                do {
                    // counted from the boot's start (after the gate), generous: a boot that
                    // times out fails every test of its configuration (``failure``)
                    try await booted.ready(timeout: 600)
                } catch {
                    GuestPool.stop(booted)
                    throw error
                }
                print("guest pool: \(c) \(booted.restored ? "restored" : "booted") and ready in \(String(format: "%.1f", booted.bootSeconds)) s")
                return booted
            } catch QEMULaunchError.exited(status: .signaled(let signal), log: _) where attempt == 1 && signal != 0 {
                // QEMU killed from outside before `ready` (seen 3 times in 8 runs on the shared
                // machine, SIGTERM, sender unknown; pids wrap at 32768 here, so another job's
                // stale pidfile is one candidate): once more
                print("guest pool: \(c): QEMU was killed by signal \(signal) while booting; booting it again")
            } catch {
                failure = error   // every later lease fails the same way, without another boot
                throw error
            }
        }
        preconditionFailure("the second attempt returns or throws")
    }

    func release(broken: Bool) {
        returned += 1
        if broken || returned >= configuration.expectedLeases, let guest {
            GuestPool.stop(guest)
            self.guest = nil
        }
        unlock()
    }

    private func unlock() {
        if waiters.isEmpty { held = false } else { waiters.removeFirst().resume() }
    }
}

/// At most `limit` holders at a time; waiters suspend, and the one of highest priority (the
/// earliest among equals) enters next.
actor AsyncGate {
    private let limit: Int
    private var inside = 0
    private var waiters: [(priority: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(limit: Int) { self.limit = limit }

    func enter(priority: Int = 0) async {
        if inside < limit { inside += 1; return }
        await withCheckedContinuation { waiters.append((priority, $0)) }   // the slot is handed over
    }

    func leave() {
        guard let best = waiters.indices.max(by: { waiters[$0].priority < waiters[$1].priority || (waiters[$0].priority == waiters[$1].priority && $0 > $1) })
        else { inside -= 1; return }
        waiters.remove(at: best).continuation.resume()
    }
}
