import Foundation
import QEMULauncher

/// Boots kernel/build/kernel.elf in QEMU (TCG) through the project's one launcher
/// (`QEMULauncher`), with `isa-debug-exit`, waits for the guest to exit or for a serial line,
/// with a deadline, and always kills QEMU.
final class QEMUBoot {
    /// The repository root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var kernel: URL { root.appendingPathComponent("kernel/build/kernel.elf") }
    /// The debug-VM build `make kernel` makes beside it (kernel/README.md, "State moves").
    static var debugVMKernel: URL { root.appendingPathComponent("kernel/build/debug-vm/kernel.elf") }

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
    /// contains one of `until` (then QEMU is killed). Throws on the deadline. `cpus` is `-smp`;
    /// `multiThreaded` runs them on one host thread each (QEMU's default) instead of one for all.
    static func run(memory: String, append: String, until: [String] = [], cpus: Int = 1, multiThreaded: Bool = false,
                    deadline: Double = 90, kernel: URL = QEMUBoot.kernel) throws -> Result {
        guard FileManager.default.fileExists(atPath: kernel.path) else { throw Failure.noKernel(kernel.path) }
        var configuration = QEMUConfiguration(kernel: kernel.path, memory: try MemorySize(parsing: memory), append: append,
                                              debugExit: true, cpus: cpus)
        configuration.multiThreadedTCG = multiThreaded
        let qemu = try QEMUProcess.launch(configuration)
        defer { qemu.stop() }
        let start = Date()
        while Date().timeIntervalSince(start) < deadline {
            if let status = qemu.status {
                let code: Int32
                switch status {
                case .exited(let s): code = s
                case .signaled(let s): code = 128 + s
                }
                return Result(serial: qemu.serial, status: code, seconds: Date().timeIntervalSince(start))
            }
            let text = qemu.serial
            if until.contains(where: { text.contains($0) }) {
                usleep(100_000)  // let the rest of the line arrive
                return Result(serial: qemu.serial, status: nil, seconds: Date().timeIntervalSince(start))
            }
            usleep(20_000)
        }
        throw Failure.timeout(seconds: deadline, serial: qemu.serial)
    }
}
