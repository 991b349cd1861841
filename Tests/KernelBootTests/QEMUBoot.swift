import Foundation

/// Boots kernel/build/kernel.elf in QEMU (TCG) with its serial port on a pipe, waits for the
/// guest to exit or for a line, with a deadline, and always kills QEMU.
final class QEMUBoot {
    /// The repository root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var kernel: URL { root.appendingPathComponent("kernel/build/kernel.elf") }

    struct Result {
        /// Everything the kernel printed.
        let serial: String
        /// QEMU's exit status, nil when it was still running and was killed.
        let status: Int32?
        /// Seconds from start to the exit or the awaited line.
        let seconds: Double
    }

    enum Failure: Error, CustomStringConvertible {
        case noKernel(String)
        case timeout(seconds: Double, serial: String)
        var description: String {
            switch self {
            case .noKernel(let p): return "no kernel at \(p): run `make kernel` first (make test does)"
            case .timeout(let s, let serial): return "QEMU did not finish within \(s) s; serial so far:\n\(serial)"
            }
        }
    }

    /// Boots with `memory` and `append`, and returns when QEMU exits or the serial output
    /// contains one of `until` (then QEMU is killed). Throws on the deadline.
    static func run(memory: String, append: String, until: [String] = [], deadline: Double = 90) throws -> Result {
        guard FileManager.default.fileExists(atPath: kernel.path) else { throw Failure.noKernel(kernel.path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-system-x86_64")
        p.arguments = ["-kernel", kernel.path, "-m", memory, "-append", append, "-serial", "stdio",
                       "-display", "none", "-no-reboot", "-accel", "tcg", "-monitor", "none",
                       "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        let buffer = SerialBuffer()
        out.fileHandleForReading.readabilityHandler = { h in buffer.append(h.availableData) }
        let start = Date()
        try p.run()
        defer {
            if p.isRunning {
                kill(p.processIdentifier, SIGTERM)
                let t = Date()
                while p.isRunning && Date().timeIntervalSince(t) < 3 { usleep(10_000) }
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                p.waitUntilExit()
            }
            out.fileHandleForReading.readabilityHandler = nil
        }
        while Date().timeIntervalSince(start) < deadline {
            if !p.isRunning {
                p.waitUntilExit()
                usleep(50_000)
                return Result(serial: buffer.text, status: p.terminationStatus, seconds: Date().timeIntervalSince(start))
            }
            let text = buffer.text
            if until.contains(where: { text.contains($0) }) {
                usleep(100_000)  // let the rest of the line arrive
                return Result(serial: buffer.text, status: nil, seconds: Date().timeIntervalSince(start))
            }
            usleep(20_000)
        }
        throw Failure.timeout(seconds: deadline, serial: buffer.text)
    }
}

/// Serial output collected from QEMU's pipe, safe to read while it grows.
final class SerialBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
