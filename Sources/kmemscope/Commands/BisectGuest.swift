import BundledChecks
import BundledState
import Foundation
import GDBRemote
import BundledKernel
import KernelLayouts
import KernelSession
import QEMULauncher

/// One boot of the bundled kernel that `bisect` drives: QEMU started stopped (`-S`) through
/// the launcher, the gdbstub on a Unix socket; the CPU is run to `kmain`, `kmem_stop_seq` is
/// set, and the guest runs to its first stop; from there a ``GuestSession`` moves it forward
/// from stop to stop (``advance(to:)``) and verifies it (``verify()``). The guest is bisect's
/// own: ``stop()`` kills QEMU.
final class BisectGuest {
    /// Where a run of the guest ended, if it did: `kmem: done …` or `kmem: BUG: …`.
    private(set) var endLine: String?
    let qemu: QEMUProcess
    let session: GuestSession
    private let checkpoint: UInt64
    private let stopSequence: UInt64
    private let sequenceAddress: UInt64
    private let limit: Duration

    /// Boots and runs to the first stop at or after `firstTarget` (`nil`: to the end of the run).
    init(kernel: KernelImage, kernelPath: String, memory: MemorySize, append: String, cpus: Int = 1,
         firstTarget: UInt64?, limit: Duration) throws {
        self.limit = limit
        checkpoint = try kernel.symbol("kmem_checkpoint").address.rawValue
        stopSequence = try kernel.symbol("kmem_stop_seq").address.rawValue
        let kmain = try kernel.symbol("kmain").address.rawValue
        var template = Array("/tmp/kmemscope-bisect-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw QEMULaunchError.directory("/tmp/kmemscope-bisect-XXXXXX", errno: errno) }
        let directory = String(cString: p)
        let socket = directory + "/gdb.sock"
        qemu = try QEMUProcess.launch(QEMUConfiguration(kernel: kernelPath, memory: memory, append: append,
                                                        gdb: .unix(socket), startStopped: true, cpus: cpus),
                                      runDirectory: directory)
        qemu.removesDirectoryOnStop = true
        do {
            try qemu.waitUntilListening(timeout: 20)
            // With -S the PVH kernel is not in memory yet: stop at kmain (a hardware breakpoint)
            // before writing kmem_stop_seq, then run to the first kmem_checkpoint (kmem_info is
            // published by then) and let a GuestSession take over, the guest stopped.
            let target = try Self.connect(socket)
            try target.setBreakpoint(at: kmain, kind: .hardware)
            _ = try target.continueUntilStop(timeout: .seconds(30))
            try target.removeBreakpoint(at: kmain, kind: .hardware)
            try target.writeMemory(at: stopSequence, bytes: Self.bytes(firstTarget ?? 0))
            try target.setBreakpoint(at: checkpoint)
            try Self.run(target, qemu: qemu, limit: limit, endLine: &endLine)
            try target.removeBreakpoint(at: checkpoint)
            target.close()   // QEMU keeps the guest stopped
            session = try GuestSession.attach(kernel: kernel, to: .unix(socket), policy: .leaveStopped)
            sequenceAddress = try session.info.number("SEQUENCE")
            try session.addBreakpoint(at: checkpoint)
        } catch {
            qemu.stop()
            throw error
        }
        if let firstTarget { _ = try advance(to: firstTarget) } else { _ = try advance(to: nil) }
    }

    /// The kernel's BUG record, when the run ended at a `kmem: BUG:` (kernel/README.md "A
    /// kernel halted at its BUG"); nil otherwise or for a kernel that publishes none.
    var bug: KernelBug? {
        guard endLine?.hasPrefix(SerialMarkers.bug) == true else { return nil }
        return (try? session.haltedAtBug()) ?? nil
    }

    /// The allocator's sequence number now.
    var sequence: UInt64 {
        get throws { try session.memory.readU64(at: sequenceAddress) }
    }

    /// Runs the guest to the first stop whose sequence is at least `target` (nil: to the end of
    /// the run), or to the end if the run ends first; returns the sequence there.
    func advance(to target: UInt64?) throws -> UInt64 {
        while endLine == nil {
            let now = try sequence
            if let target, now >= target { return now }
            try session.target.writeMemory(at: stopSequence, bytes: Self.bytes(target ?? 0))
            try Self.run(session.target, qemu: qemu, limit: limit, endLine: &endLine)
        }
        return try sequence
    }

    /// The verifier `kmemscope verify` runs, on the state here; nil after a `kmem: BUG:` halt,
    /// where the guest may sit inside an operation and only the kernel's own verdict exists.
    func verify() throws -> (VerifyReport, KernelSnapshot)? {
        if endLine?.contains(SerialMarkers.bug) == true { return nil }
        _ = try session.settle(runStoppedGuest: true)
        let snapshot = try SnapshotDecoder(info: session.info, memory: session.memory).decode()
        return (Verifier(snapshot).run(), snapshot)
    }

    /// The last `count` operation-log entries up to `sequence`.
    func log(_ count: Int, upTo sequence: UInt64) throws -> [OpLogRecord] {
        count == 0 ? [] : try OpLogDecoder(info: session.info, memory: session.memory).last(count, upTo: sequence)
    }

    func stop() {
        session.restore()
        qemu.stop()
    }

    /// Resumes `target` until it stops (a breakpoint) or the serial port says the run ended
    /// (`kmem: done`, `kmem: BUG:`: then the guest is stopped); bounded by `limit`, ended by a signal.
    private static func run(_ target: RemoteTarget, qemu: QEMUProcess, limit: Duration, endLine: inout String?) throws {
        try target.resume()
        let deadline = ContinuousClock.now + limit
        while true {
            do {
                _ = try target.waitForStop(timeout: .milliseconds(200))
                return
            } catch GDBRemoteError.timedOut {
                if InterruptSignals.isPending {
                    _ = try? target.interrupt()
                    throw SessionError.interrupted(signal: InterruptSignals.pending)
                }
                let serial = qemu.serial
                if let line = serial.split(whereSeparator: \.isNewline)
                    .first(where: { $0.hasPrefix(SerialMarkers.done) || $0.hasPrefix(SerialMarkers.bug) }) {
                    _ = try target.interrupt()
                    endLine = line.trimmingCharacters(in: .whitespacesAndNewlines)
                    return
                }
                if let status = qemu.status { throw QEMULaunchError.exited(status: status, log: qemu.log) }
                if ContinuousClock.now >= deadline {
                    _ = try? target.interrupt()
                    throw QEMULaunchError.timedOut(waitingFor: "stop or the end of the run", seconds: Double(limit.components.seconds),
                                                   serialTail: String(serial.suffix(2000)))
                }
            }
        }
    }

    private static func connect(_ socket: String) throws -> RemoteTarget {
        let start = ContinuousClock.now
        while true {
            do {
                return try RemoteTarget.connect(to: .unix(socket), timeout: .seconds(10))
            } catch GDBRemoteError.connectionRefused where ContinuousClock.now - start < .seconds(10) {
                usleep(50_000)   // QEMU binds the socket a moment before it listens
            }
        }
    }

    private static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
