import Foundation
import GDBRemote
import Glibc

/// The real kernel in QEMU, halted at reset (`-S`) with its gdbstub on a Unix socket and its
/// serial port in a file; `target` is connected. `stop()` always kills QEMU.
final class DebugBoot {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var kernel: String { root.appendingPathComponent("kernel/build/kernel.elf").path }

    let directory: String
    /// The gdbstub's Unix socket.
    let socket: String
    let process: Process
    let target: RemoteTarget

    init(memory: String = "256M", append: String) throws {
        guard FileManager.default.fileExists(atPath: DebugBoot.kernel) else {
            throw DebugBootError("no kernel at \(DebugBoot.kernel): run `make kernel` first (make test does)")
        }
        directory = NSTemporaryDirectory() + "kmemscope-debug-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socket = directory + "/gdb.sock"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        process.arguments = ["-kernel", DebugBoot.kernel, "-m", memory, "-append", append, "-S",
                             "-display", "none", "-no-reboot", "-accel", "tcg", "-monitor", "none",
                             "-serial", "file:\(directory)/serial.txt",
                             "-chardev", "socket,id=g,path=\(socket),server=on,wait=off", "-gdb", "chardev:g"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let start = Date()
        while !FileManager.default.fileExists(atPath: socket) {
            guard process.isRunning, Date().timeIntervalSince(start) < 20 else {
                DebugBoot.kill(process)
                throw DebugBootError("QEMU did not open its gdbstub socket within 20 s")
            }
            usleep(20_000)
        }
        // The socket file appears at bind(), a moment before listen(): retry a refused connect.
        var connected: RemoteTarget?
        while connected == nil {
            do {
                connected = try RemoteTarget.connect(to: .unix(socket))
            } catch GDBRemoteError.connectionRefused where Date().timeIntervalSince(start) < 20 {
                usleep(50_000)
            } catch {
                DebugBoot.kill(process)
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

    /// What the kernel printed so far.
    var serial: String { (try? String(contentsOfFile: directory + "/serial.txt", encoding: .utf8)) ?? "" }

    func stop() {
        target.close()
        DebugBoot.kill(process)
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func kill(_ p: Process) {
        guard p.isRunning else { return }
        Glibc.kill(p.processIdentifier, SIGTERM)
        let t = Date()
        while p.isRunning && Date().timeIntervalSince(t) < 3 { usleep(10_000) }
        if p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }
}

struct DebugBootError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
