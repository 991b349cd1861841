import Foundation
import GDBRemote
import Glibc
import KernelLayouts
import KernelSession
import QEMULauncher

/// The real kernel in QEMU, halted at reset (`-S`) with its gdbstub on a Unix socket and its
/// serial port in a file, started through the project's one launcher (`QEMULauncher`);
/// `target` is connected. `stop()` always kills QEMU.
final class DebugBoot {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var kernel: String { root.appendingPathComponent("kernel/build/kernel.elf").path }

    let directory: String
    /// The gdbstub's Unix socket.
    let socket: String
    /// QEMU's human monitor on a Unix socket (for `info status`, `stop`, `cont`).
    let monitorSocket: String
    let process: QEMUProcess
    let target: RemoteTarget

    /// `multiThreaded`: QEMU's multi-threaded TCG (one host thread per vCPU) for a guest of
    /// several CPUs, instead of the single-threaded TCG the launcher picks for one.
    init(memory: String = "256M", append: String, memoryFile: String? = nil, cpus: Int = 1, multiThreaded: Bool = false,
         extraArguments: [String] = []) throws {
        guard FileManager.default.fileExists(atPath: DebugBoot.kernel) else {
            throw DebugBootError("no kernel at \(DebugBoot.kernel): run `make kernel` first (make test does)")
        }
        directory = NSTemporaryDirectory() + "kmemscope-debug-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        socket = directory + "/gdb.sock"
        monitorSocket = directory + "/monitor.sock"
        var configuration = QEMUConfiguration(kernel: DebugBoot.kernel, memory: try MemorySize(parsing: memory), append: append,
                                              gdb: .unix(socket), startStopped: true, memoryFile: memoryFile,
                                              monitorSocket: monitorSocket, cpus: cpus, extraArguments: extraArguments)
        configuration.multiThreadedTCG = multiThreaded
        process = try QEMUProcess.launch(configuration, runDirectory: directory)
        process.removesDirectoryOnStop = true
        do {
            try process.waitUntilListening(timeout: 20)
        } catch {
            process.stop()
            throw error
        }
        // QEMU binds the socket a moment before it listens: retry a refused connect.
        let start = Date()
        var connected: RemoteTarget?
        while connected == nil {
            do {
                connected = try RemoteTarget.connect(to: .unix(socket))
            } catch GDBRemoteError.connectionRefused where Date().timeIntervalSince(start) < 20 {
                usleep(50_000)
            } catch {
                process.stop()
                throw error
            }
        }
        target = connected!
    }

    /// Lets the guest run until its serial output shows one of `markers` (at most `timeout`
    /// seconds), then stops it and detaches, so another client (kmemscope) can attach.
    func runUntil(_ markers: [String] = ["kmem: done"], timeout: Double = 60) throws {
        try target.resume()
        let start = Date()
        while !markers.contains(where: { serial.contains($0) }) && Date().timeIntervalSince(start) < timeout { usleep(50_000) }
        usleep(100_000)
        _ = try target.interrupt()
        try target.detach()
    }

    /// Lets the guest run with no debugger attached (from `-S` or a stop), and waits (at most
    /// `timeout` seconds) until its serial output shows `marker`.
    func release(until marker: String = "kmem: workload", timeout: Double = 60) throws {
        try target.detach()
        let start = Date()
        while !serial.contains(marker) {
            guard Date().timeIntervalSince(start) < timeout else { throw DebugBootError("no '\(marker)' within \(timeout) s") }
            usleep(20_000)
        }
    }

    /// From reset, runs the guest to the first stop at or after `sequence` (`kmem_stop_seq` and a
    /// breakpoint at `kmem_checkpoint`), reads the layout descriptor there, and disconnects,
    /// leaving the guest stopped: a command that attaches next finds it stopped, with no race.
    @discardableResult
    func stopAt(sequence: UInt64) throws -> KernelInfo {
        let image = try KernelImage(path: DebugBoot.kernel)
        let kmain = try image.symbol("kmain").address.rawValue
        let checkpoint = try image.symbol("kmem_checkpoint").address.rawValue
        // With -S the kernel is not in memory yet: stop at its entry before writing kmem_stop_seq.
        try target.setBreakpoint(at: kmain, kind: .hardware)
        _ = try target.continueUntilStop(timeout: .seconds(30))
        try target.removeBreakpoint(at: kmain, kind: .hardware)
        try target.writeMemory(at: try image.symbol("kmem_stop_seq").address.rawValue,
                               bytes: (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (8 * $0)) })
        try target.setBreakpoint(at: checkpoint)
        _ = try target.continueUntilStop(timeout: .seconds(60))
        try target.removeBreakpoint(at: checkpoint)
        let info = try KernelInfo.read(from: StubMemory(target: target), at: try image.symbol("kmem_info").address.rawValue)
        target.close()
        return info
    }

    /// From a stop after ``stopAt(sequence:)``, runs the guest on to the first stop at or after
    /// `sequence` the same way, and disconnects leaving it stopped there.
    func continueTo(sequence: UInt64) throws {
        let image = try KernelImage(path: DebugBoot.kernel)
        let checkpoint = try image.symbol("kmem_checkpoint").address.rawValue
        let t = try reconnect()
        defer { t.close() }
        try t.writeMemory(at: try image.symbol("kmem_stop_seq").address.rawValue,
                          bytes: (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (8 * $0)) })
        try t.setBreakpoint(at: checkpoint)
        _ = try t.continueUntilStop(timeout: .seconds(60))
        try t.removeBreakpoint(at: checkpoint)
    }

    /// A new connection to the stub (after ``stopAt(sequence:)`` or a command disconnected).
    func reconnect() throws -> RemoteTarget { try RemoteTarget.connect(to: .unix(socket)) }

    /// Runs a command on QEMU's monitor and returns its output (without the echo and prompt).
    func monitor(_ command: String) throws -> String {
        try HumanMonitor.run(command, socket: monitorSocket)
    }

    /// `running` or `paused`, as QEMU's monitor says (`VM status: …`).
    func vmStatus() throws -> String {
        let text = try monitor("info status")
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.contains("VM status: ") }) else {
            throw DebugBootError("no VM status in \(text.debugDescription)")
        }
        return String(line.split(separator: " ")[2].prefix { $0.isLetter || $0 == "-" })
    }

    /// What the kernel printed so far.
    var serial: String { process.serial }

    /// The lines the kernel printed after its last `kmem: checkpoint phase P` line (its own
    /// report at that checkpoint: buddyinfo, slabinfo, zonestat).
    func report(afterCheckpoint phase: Int) throws -> [String] {
        let serial = self.serial
        guard let last = serial.range(of: "kmem: checkpoint phase \(phase)", options: .backwards) else {
            throw DebugBootError("no 'kmem: checkpoint phase \(phase)' in the serial output: \(serial.suffix(300).debugDescription)")
        }
        return serial[last.upperBound...].split(whereSeparator: \.isNewline).map(String.init)
    }

    func stop() {
        target.close()
        process.stop()
    }
}

struct DebugBootError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
