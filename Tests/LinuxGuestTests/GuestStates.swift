import Foundation
import Glibc
import QEMULauncher

/// Booted Linux guests kept as QEMU migration streams, so that a test run boots each
/// configuration once per machine and restores it afterwards (issue 18: the Linux suites'
/// added time in `make test`).
///
/// A boot costs ~13 s of host CPU under TCG (the kernel's boot, /init's pass over kallsyms,
/// its printouts); restoring the state it reached at `@@kmemscope ready` costs ~0.4 s. What a
/// test sees is the same guest at the same moment: the state is saved right after `ready`
/// (the VM stopped, `migrate` to a file, then continued), beside the serial output up to
/// there — the /proc printouts the views are compared with. A restored guest runs on from that
/// moment exactly as the booted one did.
///
/// The key is everything that decides the guest: QEMU's version (a migration stream is read
/// by the QEMU that wrote it), the kernel and initramfs (path, size, mtime: the initramfs'
/// name already carries linux-guest.sh's hash), memory, command line and the other options.
/// Files: `${KMEMSCOPE_CACHE:-~/.cache/kmemscope}/linux/states/KEY.state` and `KEY.serial`,
/// ~90 MB per configuration at 512M (zero pages are not stored). `KMEMSCOPE_LINUX_RESTORE=0`
/// boots every guest (and saves none).
enum GuestStates {
    static var enabled: Bool { ProcessInfo.processInfo.environment["KMEMSCOPE_LINUX_RESTORE"] != "0" }

    static var directory: String {
        let env = ProcessInfo.processInfo.environment
        let cache = env["KMEMSCOPE_CACHE"] ?? (env["HOME"] ?? "/tmp") + "/.cache/kmemscope"
        return cache + "/linux/states"
    }

    /// `qemu-system-x86_64 --version`'s first line, once per process.
    static let qemuVersion: String = {
        let (status, output) = LinuxGuest.run(["-c", "qemu-system-x86_64 --version"])
        return status == 0 ? String(output.split(separator: "\n").first ?? "") : "unknown"
    }()

    /// The key of a guest started with `options` (no run-directory paths in them) from these files.
    static func key(files: [String], options: [String]) -> String {
        var text = qemuVersion
        for file in files {
            var st = stat()
            let found = stat(file, &st) == 0
            text += "\n\(file) \(found ? st.st_size : -1) \(found ? st.st_mtim.tv_sec : -1)"
        }
        text += "\n" + options.joined(separator: "\u{1f}")
        // FNV-1a, 64 bits, twice (two offsets): a file name, not a security boundary
        func fnv(_ seed: UInt64) -> UInt64 {
            text.utf8.reduce(seed) { ($0 ^ UInt64($1)) &* 0x100000001b3 }
        }
        return String(fnv(0xcbf29ce484222325), radix: 16) + String(fnv(0x84222325cbf29ce4), radix: 16)
    }

    /// The saved state and serial output for `key`, if both are there.
    static func saved(_ key: String) -> (state: String, serial: String)? {
        let state = directory + "/\(key).state", serial = directory + "/\(key).serial"
        guard enabled, FileManager.default.fileExists(atPath: state),
              let text = try? String(contentsOfFile: serial, encoding: .utf8),
              text.contains("@@kmemscope ready") else { return nil }
        return (state, text)
    }

    /// Saves the running guest behind `monitor` as `key`: stops it, migrates it to a file,
    /// continues it. Written under temporary names and renamed, serial first, so a reader never
    /// finds a state without its serial output, and two test processes saving the same key at
    /// once leave one whole pair. A failure leaves nothing and is only printed: the next run
    /// boots again.
    static func save(_ key: String, monitor: String, serial: String) {
        guard enabled else { return }
        let tag = "\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let statePart = directory + "/\(key).state.part.\(tag)", serialPart = directory + "/\(key).serial.part.\(tag)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let hmp = try HumanMonitor(socket: monitor, timeout: 30)
            _ = try hmp.command("stop")
            defer { _ = try? hmp.command("cont") }
            _ = try hmp.command("migrate -d \"exec:cat > '\(statePart)'\"")
            let deadline = Date().addingTimeInterval(120)
            var status = ""
            repeat {
                usleep(100_000)
                status = try hmp.command("info migrate")
            } while !status.contains("Migration status: completed") && !status.contains("Migration status: failed") && Date() < deadline
            guard status.contains("Migration status: completed") else {
                throw QEMUMonitorError("migrate did not complete: \(status.suffix(200))")
            }
            try serial.write(toFile: serialPart, atomically: false, encoding: .utf8)
            guard rename(serialPart, directory + "/\(key).serial") == 0, rename(statePart, directory + "/\(key).state") == 0 else {
                throw QEMUMonitorError("rename: errno \(errno)")
            }
        } catch {
            unlink(statePart)
            unlink(serialPart)
            print("guest states: not saved (\(error)); the next run boots this configuration again")
        }
    }

    /// After a restore: waits until the incoming migration is loaded, then lets the guest run
    /// (it was saved stopped). Returns false if it did not reach `running` before `deadline`.
    static func resume(monitor: String, until deadline: Date) async throws -> Bool {
        while Date() < deadline {
            if let hmp = try? HumanMonitor(socket: monitor, timeout: 30) {
                let status = try hmp.command("info status")
                if status.contains("status: running") { return true }
                if status.contains("status: paused") && !status.contains("inmigrate") {
                    _ = try hmp.command("cont")
                    continue
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
