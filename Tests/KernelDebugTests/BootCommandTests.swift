import Foundation
import Glibc
import KernelLayouts
import QEMULauncher
import Testing

/// `kmemscope boot` end to end: QEMU left running in the background, the printed attach line
/// works as it is, the RAM file holds guest memory, bad addresses and taken ports exit 2.
@Suite("kmemscope boot")
struct BootCommandTests {
    /// The value of the line that starts with `key` in boot's output.
    static func field(_ out: String, _ key: String) -> String? {
        out.split(separator: "\n").first { $0.hasPrefix(key) }.map { String($0.dropFirst(key.count)).trimmingCharacters(in: .whitespaces) }
    }

    static func kill(_ pid: pid_t) {
        Glibc.kill(pid, SIGTERM)
        for _ in 0..<300 where Glibc.kill(pid, 0) == 0 { usleep(10_000) }
        if Glibc.kill(pid, 0) == 0 { Glibc.kill(pid, SIGKILL) }
    }

    @Test func bootsInTheBackgroundAndPrintsHowToAttach() throws {
        let ram = "/dev/shm/kmemscope-boot-test-\(getpid()).ram"
        defer { unlink(ram) }
        // kmemscope() reads the pipes to their end: it returns only because QEMU does not inherit them
        let r = try InfoCommandTests.kmemscope(["boot", "--memory", "128M", "--append", "seed=1 ops=2000 phases=2",
                                                "--memory-file", ram, "--wait", "done", "--elf", DebugBoot.kernel])
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        let pidText = try #require(r.out.split(separator: "\n").first?.split(separator: " ").dropFirst(2).first?.dropLast())
        let pid = try #require(pid_t(pidText), "\(r.out)")
        defer { Self.kill(pid) }
        #expect(Glibc.kill(pid, 0) == 0, "QEMU runs on after the command")
        #expect(Self.field(r.out, "reached")?.hasPrefix("kmem: done seq ") == true, "\(r.out)")
        let serial = try #require(Self.field(r.out, "serial"))
        #expect(try String(contentsOfFile: serial, encoding: .utf8).contains("kmem: done seq "))
        // the attach line, run as printed (its words need no quoting here)
        let attach = try #require(Self.field(r.out, "attach:"), "\(r.out)")
        let words = attach.split(separator: " ").map(String.init)
        #expect(words.first?.hasSuffix("kmemscope") == true && words.contains("--target"), "\(attach)")
        let info = try InfoCommandTests.kmemscope(Array(words.dropFirst()) + ["--elf", DebugBoot.kernel])
        #expect(info.status == 0, "\(info.out)\(info.err)")
        #expect(info.out.contains("matches"), "\(info.out)")
        // guest RAM is the file: the layout descriptor's magic at its physical address
        let image = try KernelImage(path: DebugBoot.kernel)
        let kmemInfo = try image.symbol("kmem_info").address.rawValue
        let size = try FileManager.default.attributesOfItem(atPath: ram)[.size] as? Int
        #expect(size == 128 << 20)
        let file = try #require(FileHandle(forReadingAtPath: ram))
        try file.seek(toOffset: kmemInfo &- 0xffff_ffff_8000_0000)
        #expect(Array(try file.read(upToCount: 8) ?? Data()) == Array("KMEMINFO".utf8))
        try file.close()
        #expect(Self.field(r.out, "stop:")?.hasPrefix("kill \(pid) ") == true, "\(r.out)")
    }

    /// `--smp N` gives QEMU `-smp N`: the kernel starts them all; N outside 1…16 is refused.
    @Test func smpStartsThatManyCPUs() throws {
        let r = try InfoCommandTests.kmemscope(["boot", "--memory", "128M", "--smp", "4", "--append", "seed=1 ops=1000 phases=2",
                                                "--wait", "done", "--elf", DebugBoot.kernel])
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        let first = try #require(r.out.split(separator: "\n").first)
        let pid = try #require(first.split(separator: " ").dropFirst(2).first.flatMap { pid_t($0.dropLast()) }, "\(r.out)")
        defer { Self.kill(pid) }
        #expect(first.contains(", -m 128M, -smp 4, append "), "\(first)")
        let argv = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8).split(separator: "\0").map(String.init)
        #expect(argv.firstIndex(of: "-smp").map { argv[$0 + 1] } == "4", "\(argv)")
        let serial = try String(contentsOfFile: try #require(Self.field(r.out, "serial")), encoding: .utf8)
        #expect(serial.contains("kmem: cpus 4\n") || serial.contains("kmem: cpus 4\r\n"), "\(serial.prefix(1500))")
        // the toolkit on the guest boot started: verify on the halted 4-CPU guest, and info's CPUs
        let stub = try #require(Self.field(r.out, "gdbstub"))
        let verify = try InfoCommandTests.kmemscope(["verify", "--target", stub, "--elf", DebugBoot.kernel])
        #expect(verify.status == 0 && verify.out.contains("all passed"), "\(verify.out.prefix(1500))\n\(verify.err)")
        let info = try InfoCommandTests.kmemscope(["info", "--target", stub, "--elf", DebugBoot.kernel])
        #expect(info.out.contains("cpus 4: 0 running (APIC 0), 1 parked (APIC 1), 2 parked (APIC 2), 3 parked (APIC 3)"), "\(info.out)")
        for bad in ["0", "17"] {
            let refused = try InfoCommandTests.kmemscope(["boot", "--smp", bad, "--elf", DebugBoot.kernel])
            #expect(refused.status == 2)
            #expect(refused.err.contains("--smp must be 1 to 16"), "\(refused.err)")
        }
    }

    @Test func refusesOtherInterfacesAndReportsQEMUsDeath() throws {
        let wide = try InfoCommandTests.kmemscope(["boot", "--gdb", "tcp:0.0.0.0:1234", "--elf", DebugBoot.kernel])
        #expect(wide.status == 2)
        #expect(wide.err.contains("127.0.0.1, ::1 or a Unix socket only"), "\(wide.err)")
        // a port another socket holds: QEMU exits, boot says why in one line and exits 2
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, len) == 0 && getsockname(holder, $0, &len) == 0 && listen(holder, 1) == 0 }
        }
        let port = UInt16(bigEndian: sa.sin_port)
        let taken = try InfoCommandTests.kmemscope(["boot", "--memory", "64M", "--gdb", "tcp:127.0.0.1:\(port)", "--elf", DebugBoot.kernel])
        #expect(taken.status == 2, "\(taken.out)")
        #expect(taken.err.contains("QEMU exited with status 1") && taken.err.contains("Address already in use"), "\(taken.err)")
        #expect(taken.err.split(separator: "\n").count == 1, "\(taken.err)")
    }

    /// Ctrl-C while --wait waits: QEMU is stopped (not left behind), exit status 130.
    @Test func ctrlCWhileWaitingStopsQEMU() throws {
        let directory = NSTemporaryDirectory() + "kmemscope-boot-sigint-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: InfoCommandTests.binary)
        p.arguments = ["boot", "--memory", "128M", "--append", "seed=1 ops=500000000 phases=2", "--run-directory", directory,
                       "--wait", "done", "--elf", DebugBoot.kernel]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        var pid: pid_t?
        let deadline = Date().addingTimeInterval(20)
        while pid == nil && Date() < deadline {
            pid = (try? String(contentsOfFile: directory + "/qemu.pid", encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            usleep(20_000)
        }
        let qemu = try #require(pid, "no pidfile")
        defer { Self.kill(qemu) }
        usleep(300_000)
        Glibc.kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        #expect(Glibc.kill(qemu, 0) != 0, "QEMU was stopped")
    }
}
