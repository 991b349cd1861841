import Foundation
import Glibc

/// `kmemscope proxy` as a child process for the proxy tests: started in front of a guest's
/// gdbstub, listening on a Unix socket beside it; `stop()` sends SIGTERM (then SIGKILL) and
/// returns its exit status. Its standard error goes to a file the tests read.
final class ProxyProcess {
    let process = Process()
    let socket: String
    let logPath: String
    /// `--listen` when not the Unix socket `socket` (e.g. `127.0.0.1:0`).
    let listen: String?

    init(target: String, directory: String, arguments: [String] = [], listen: String? = nil) throws {
        socket = directory + "/proxy-\(UInt32.random(in: 0 ... .max)).sock"
        logPath = socket + ".log"
        self.listen = listen
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: InfoCommandTests.binary)
        process.arguments = ["proxy", "--listen", listen ?? ("unix:" + socket), "--target", target, "--elf", DebugBoot.kernel] + arguments
        process.currentDirectoryURL = DebugBoot.root
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        let start = Date()
        while !log.contains("listening on") {
            guard process.isRunning, Date().timeIntervalSince(start) < 20 else {
                stop()
                throw DebugBootError("kmemscope proxy did not start: \(log)")
            }
            usleep(20_000)
        }
    }

    /// What the proxy said on standard error so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The address clients give: `unix:PATH`, or what the proxy said it listens on.
    var address: String { listen == nil ? "unix:" + socket : gdbTarget }

    /// What gdb's `target remote` takes, as the proxy's first line spells it.
    var gdbTarget: String {
        guard listen != nil else { return socket }
        let line = log.split(separator: "\n").first { $0.contains("gdb: target remote ") } ?? ""
        return line.components(separatedBy: "gdb: target remote ").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    /// Waits at most `seconds` for the proxy to exit by itself; nil if it did not.
    func waitForExit(seconds: Double) -> Int32? {
        let start = Date()
        while process.isRunning && Date().timeIntervalSince(start) < seconds { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        if waitForExit(seconds: 5) == nil { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A child process (gdb, kmemscope) run in the background: its output in a file, killed if
/// it outlives its deadline.
final class BackgroundProcess {
    let process = Process()
    let outputPath: String

    init(_ executable: String, _ arguments: [String], directory: String) throws {
        outputPath = directory + "/out-\(UInt32.random(in: 0 ... .max)).txt"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = DebugBoot.root
        let out = FileHandle(forWritingAtPath: outputPath)
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
    }

    /// gdb in batch mode running `commands` on the kernel ELF.
    static func gdb(_ commands: [String], directory: String) throws -> BackgroundProcess {
        let script = directory + "/script-\(UInt32.random(in: 0 ... .max)).gdb"
        try (["set pagination off", "set confirm off", "set width 0"] + commands).joined(separator: "\n")
            .write(toFile: script, atomically: true, encoding: .utf8)
        return try BackgroundProcess("/usr/bin/gdb", ["-q", "-nx", "-batch", "-x", script, DebugBoot.kernel], directory: directory)
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits at most `seconds`; kills the process if it is still running then. Returns its
    /// exit status, or nil when it had to be killed.
    func wait(seconds: Double) -> Int32? {
        let start = Date()
        while process.isRunning && Date().timeIntervalSince(start) < seconds { usleep(20_000) }
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return nil
    }

    /// Waits until the output contains `text` (at most `seconds`).
    func waitFor(_ text: String, seconds: Double) -> Bool {
        let start = Date()
        while !output.contains(text) && Date().timeIntervalSince(start) < seconds { usleep(20_000) }
        return output.contains(text)
    }
}
