import Foundation
import Glibc
import QEMULauncher
import Testing

/// The launcher's pure parts (addresses, sizes, the argv it builds) and, against real QEMU, the
/// behaviour every user of it relies on: option values with commas, QEMU's death reported
/// with its own stderr, serial waits, and a stop that always ends the process.
@Suite("QEMULauncher")
struct LauncherTests {
    static let kernel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("kernel/build/kernel.elf").path

    @Test func gdbAddressesAreLoopbackOrUnixOnly() throws {
        #expect(try GDBEndpoint.parse("unix:/tmp/a.sock") == .unix("/tmp/a.sock"))
        #expect(try GDBEndpoint.parse("tcp:127.0.0.1:1234") == .tcp(host: "127.0.0.1", port: 1234))
        #expect(try GDBEndpoint.parse(":1234") == .tcp(host: "127.0.0.1", port: 1234))
        #expect(try GDBEndpoint.parse("localhost:99") == .tcp(host: "127.0.0.1", port: 99))
        #expect(try GDBEndpoint.parse("tcp:[::1]:5") == .tcp(host: "::1", port: 5))
        #expect(GDBEndpoint.tcp(host: "::1", port: 5).targetString == "[::1]:5")
        for bad in ["tcp:0.0.0.0:1234", "10.0.0.1:1", "tcp::0", "127.0.0.1:70000", "unix:", "1234"] {
            #expect(throws: QEMULaunchError.self, "\(bad)") { try GDBEndpoint.parse(bad) }
        }
    }

    @Test func memorySizes() throws {
        #expect(try MemorySize(parsing: "128M").bytes == 128 << 20)
        #expect(try MemorySize(parsing: "6g").description == "6G")
        #expect(try MemorySize(parsing: "512").description == "512M")
        #expect(try MemorySize(parsing: "1536M").description == "1536M")
        #expect(try MemorySize(parsing: "1048576K").description == "1G")
        for bad in ["", "1Q", "0M", "1K", "-1G", "99999999999999999T"] {
            #expect(throws: QEMULaunchError.self, "\(bad)") { try MemorySize(parsing: bad) }
        }
    }

    @Test func argumentsEscapeCommasAndNeverUseAShell() throws {
        let c = QEMUConfiguration(kernel: "/k,1.elf", memory: try MemorySize(parsing: "1G"), append: "a=1 b=2, c",
                                  gdb: .unix("/tmp/x,y/gdb.sock"), startStopped: true, memoryFile: "/dev/shm/r,am",
                                  debugExit: true)
        let a = c.arguments(runDirectory: "/tmp/run,dir")
        #expect(a.first == "qemu-system-x86_64")
        #expect(a.contains("-kernel") && a[a.firstIndex(of: "-kernel")! + 1] == "/k,1.elf")        // not QemuOpts: as it is
        #expect(a[a.firstIndex(of: "-append")! + 1] == "a=1 b=2, c")
        #expect(a.contains("socket,id=gdb0,path=/tmp/x,,y/gdb.sock,server=on,wait=off"))
        #expect(a.contains("memory-backend-file,id=ram,size=1G,mem-path=/dev/shm/r,,am,share=on"))
        #expect(a.contains("file,id=serial0,path=/tmp/run,,dir/serial.txt"))
        #expect(a.contains("-S") && a.contains("isa-debug-exit,iobase=0xf4,iosize=4"))
        #expect(a[a.firstIndex(of: "-pidfile")! + 1] == "/tmp/run,dir/qemu.pid")
        #expect(!a.contains { $0.contains("0.0.0.0") })
        #expect(!a.contains("-smp"))  // one CPU: QEMU's default, no option
    }

    @Test("-smp N follows -m when more than one CPU is asked for")
    func smpArgument() throws {
        var c = QEMUConfiguration(kernel: "/k.elf", memory: try MemorySize(parsing: "256M"), cpus: 4)
        var a = c.arguments(runDirectory: "/tmp/run")
        let m = try #require(a.firstIndex(of: "-m"))
        #expect(Array(a[m ..< m + 4]) == ["-m", "256M", "-smp", "4"])
        #expect(a[try #require(a.firstIndex(of: "-accel")) + 1] == "tcg,thread=single")  // one host thread runs the turns
        c.cpus = 1
        a = c.arguments(runDirectory: "/tmp/run")
        #expect(!a.contains("-smp"))
        #expect(a[try #require(a.firstIndex(of: "-accel")) + 1] == "tcg")
    }

    /// A run directory with a comma and a space in its name, `-S`, the kernel's `exit=1`: the
    /// pidfile names the process, the serial file is where it was asked, the exit status is the guest's.
    @Test func bootsWithAwkwardPathsAndReportsTheGuestsExit() throws {
        let directory = NSTemporaryDirectory() + "kmemscope launcher, test \(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let qemu = try QEMUProcess.launch(QEMUConfiguration(kernel: Self.kernel, memory: try MemorySize(parsing: "128M"),
                                                            append: "exit=1", gdb: .unix(directory + "/gdb.sock"), startStopped: true, debugExit: true),
                                          runDirectory: directory)
        defer { qemu.stop() }
        // started stopped (-S): the pidfile is there before anything runs; a gdb detach lets it go
        try qemu.waitUntilListening(timeout: 20)
        let pidText = try String(contentsOfFile: qemu.pidFile, encoding: .utf8)
        #expect(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) == qemu.pid)
        try Self.detach(directory + "/gdb.sock")
        #expect(try qemu.waitForSerial([SerialMarkers.booted], timeout: 60) == SerialMarkers.booted)
        let status = try #require(qemu.waitForExit(timeout: 30))
        #expect(status.debugExitCode == 0, "self-check passed: \(status)")
        #expect(qemu.serial.contains("kmem: self-check: ok"))
        #expect(FileManager.default.fileExists(atPath: directory + "/serial.txt"))
    }

    /// Lets a `-S` guest run: connect to its gdbstub and send `D` (detach), with no client library.
    static func detach(_ path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(rc == 0, "connect: errno \(errno)")
        let packet = Array("$D#44".utf8)
        _ = packet.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        usleep(200_000)
    }

    @Test func qemusDeathIsReportedWithItsStderr() throws {
        let qemu = try QEMUProcess.launch(QEMUConfiguration(kernel: Self.kernel, memory: try MemorySize(parsing: "64M"),
                                                            gdb: .unix("/tmp/kmemscope-launcher-\(getpid()).sock"),
                                                            extraArguments: ["-no-such-option"]))
        defer { qemu.stop() }
        let failure: Error? = { do { try qemu.waitUntilListening(timeout: 20); return nil } catch { return error } }()
        let message = "\(try #require(failure, "QEMU with a bad option must not listen"))"
        #expect(message.hasPrefix("QEMU exited with status 1: ") && message.contains("-no-such-option"), "\(message)")
        for (configuration, message) in [
            (QEMUConfiguration(kernel: "/nonexistent.elf", memory: MemorySize(bytes: 64 << 20)), "no kernel image at /nonexistent.elf"),
            (QEMUConfiguration(kernel: nil, memory: MemorySize(bytes: 64 << 20), executable: "qemu-system-nonesuch"),
             "qemu-system-nonesuch is not on PATH"),
        ] {
            do {
                let started = try QEMUProcess.launch(configuration)
                started.stop()
                Issue.record("\(message): launched")
            } catch {
                #expect("\(error)".hasPrefix(message), "\(error)")
            }
        }
    }

    /// A wait for a line that never comes ends on its deadline; stop() ends QEMU even when it
    /// ignores SIGTERM (stopped with SIGSTOP: only SIGKILL ends it) and removes the directory.
    @Test func waitsAreBoundedAndStopAlwaysEndsQEMU() throws {
        let qemu = try QEMUProcess.launch(QEMUConfiguration(kernel: Self.kernel, memory: try MemorySize(parsing: "64M")))
        let started = ContinuousClock.now
        #expect(throws: QEMULaunchError.self) { try qemu.waitForSerial(["no such line"], timeout: 1.5) }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(qemu.isRunning)
        kill(qemu.pid, SIGSTOP)
        qemu.stop()
        #expect(qemu.status == .signaled(SIGKILL))
        #expect(!FileManager.default.fileExists(atPath: qemu.runDirectory))
    }

    /// `/proc/net/unix` is produced a page at a time and reports size 0: Foundation's readers
    /// (`String(contentsOfFile:)`, `FileManager.contents`) return only its first ~4 KB, so on a
    /// busy machine a listening socket further down went unseen. 120 listening sockets of our
    /// own (well over a page) must all be found, and one that only binds must not.
    @Test func listeningSocketsPastTheFirstPageAreFound() throws {
        var template = Array("/tmp/kmemscope-listen-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func bound(_ path: String, listening: Bool) -> Int32 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(path.utf8)
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            _ = withUnsafePointer(to: &address) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if listening { listen(fd, 1) }
            return fd
        }
        let paths = (0..<120).map { "\(directory)/a-socket-with-a-long-name-to-fill-the-page-\($0).sock" }
        let fds = paths.map { bound($0, listening: true) }
        let quiet = bound(directory + "/bound-only.sock", listening: false)
        defer { (fds + [quiet]).forEach { close($0) } }
        let missed = paths.filter { !QEMUProcess.isListening(.unix($0), process: getpid()) }
        #expect(missed.isEmpty, "\(missed.count) of 120 not found")
        #expect(!QEMUProcess.isListening(.unix(directory + "/bound-only.sock"), process: getpid()))
        #expect(!QEMUProcess.isListening(.unix(paths[0]), process: 1), "another process's socket does not count")
    }
}
