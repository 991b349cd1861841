import ArgumentParser
import Foundation
import KernelSession
import QEMULauncher

/// `kmemscope boot`: starts the bundled kernel in QEMU (TCG) in the background, the gdbstub on
/// a Unix socket or a loopback port only, and prints how to attach and how to stop it. QEMU
/// outlives the command. `--wait` blocks until the serial port shows the kernel booted, a
/// checkpoint, or the workload done.
struct BootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Start the bundled kernel in QEMU in the background and print how to attach.",
        discussion: """
            QEMU runs in its own session after the command exits; its pid, gdbstub, serial file and log are \
            printed, with the exact command line to attach and the one to stop it. The gdbstub listens on a Unix \
            socket in the run directory unless --gdb says otherwise (127.0.0.1 or ::1 only). Exit status: 0 \
            started (and, with --wait, reached the point), 1 the kernel reported a BUG while --wait waited, 2 QEMU \
            did not start or the point was not reached in time (QEMU is stopped then).
            """)

    enum WaitPoint: String, ExpressibleByArgument, CaseIterable {
        case booted, checkpoint, done

        var marker: String {
            switch self {
            case .booted: return SerialMarkers.booted
            case .checkpoint: return SerialMarkers.checkpoint
            case .done: return SerialMarkers.done
            }
        }
    }

    @Option(name: .long, help: "Guest RAM, as QEMU's -m (128M, 1G, 6G).")
    var memory: String = "1G"

    @Option(name: .long, help: ArgumentHelp("Virtual CPUs (QEMU's -smp), 1 to 16: the kernel starts them all and prints `kmem: cpus N`; a workload runs on every CPU, the CPUs taking turns in a fixed order (the same op log every boot), or at once with smp=free in --append (multi-threaded TCG, not repeatable).", valueName: "n"))
    var smp: Int = 1

    @Option(name: .long, help: ArgumentHelp("The kernel command line (e.g. \"seed=1 ops=20000 phases=4\"; see the README's table).", valueName: "words"))
    var append: String = ""

    @Option(name: .long, help: ArgumentHelp("The gdbstub: unix:PATH or tcp:127.0.0.1:PORT (default: unix:RUN-DIRECTORY/gdb.sock).", valueName: "address"))
    var gdb: String?

    @Option(name: .long, help: ArgumentHelp("Share guest RAM through this file (memory-backend-file, share=on), e.g. /dev/shm/kmem.ram.", valueName: "path"))
    var memoryFile: String?

    @Option(name: .long, help: ArgumentHelp("The serial port's file (default: RUN-DIRECTORY/serial.txt).", valueName: "file"))
    var serial: String?

    @Option(name: .long, help: ArgumentHelp("Where the pidfile, QEMU's log and (by default) the socket and serial file go (default: a new /tmp/kmemscope-boot-XXXXXX).", valueName: "directory"))
    var runDirectory: String?

    @Option(name: .long, help: "Block until the serial port shows the kernel booted (kmem: ready), a checkpoint, or the workload done.")
    var wait: WaitPoint?

    @Option(name: .long, help: "Seconds --wait waits at most.")
    var waitTimeout: Int = 300

    @Flag(name: .long, help: "Start with the CPU stopped (QEMU's -S) until a debugger continues it.")
    var stopped = false

    /// `--elf`: the image to boot, the shared option every command that reads an image takes.
    @OptionGroup var image: ElfOption
    var elf: String? { image.elf }

    func validate() throws {
        do {
            _ = try MemorySize(parsing: memory)
            if let gdb { _ = try GDBEndpoint.parse(gdb) }
        } catch {
            throw ValidationError("\(error)")
        }
        guard (1 ... Self.maxCPUs).contains(smp) else {
            throw ValidationError("--smp must be 1 to \(Self.maxCPUs) (the kernel runs on at most \(Self.maxCPUs) CPUs), not \(smp)")
        }
        guard waitTimeout > 0 else { throw ValidationError("--wait-timeout must be at least 1 second") }
        if stopped && wait != nil { throw ValidationError("--stopped and --wait contradict each other: a stopped CPU prints nothing") }
    }

    /// The most CPUs the bundled kernel starts (kernel/include/support.h `KMEM_MAX_CPUS`).
    static let maxCPUs = 16

    func run() throws {
        let kernel = URL(fileURLWithPath: try elf ?? KernelImageLocator.locate()).standardizedFileURL.path
        // Refused before QEMU starts: QEMU takes any file it can load (an HTML page as a
        // bzImage) and runs it, and boot would report a guest started.
        _ = try ImageOptions.openKmemscopeKernel(kernel)
        let directory = try runDirectory.map(Self.absolute) ?? Self.makeRunDirectory()
        var endpoint = try GDBEndpoint.parse(gdb ?? "unix:" + directory + "/gdb.sock")
        if case .unix(let path) = endpoint { endpoint = .unix(Self.absolute(path)) }
        var configuration = QEMUConfiguration(kernel: kernel, memory: try MemorySize(parsing: memory), append: append,
                                              gdb: endpoint, startStopped: stopped,
                                              memoryFile: memoryFile.map(Self.absolute), serialFile: serial.map(Self.absolute),
                                              cpus: smp)
        // smp=free: the CPUs run at once, one host thread each (QEMU's multi-threaded TCG)
        configuration.multiThreadedTCG = FreeRunningGuest.requested(in: append)
        // A signal while QEMU is ours (until it is handed over) ends the wait; QEMU is stopped.
        InterruptSignals.setHolding(true)
        defer { InterruptSignals.setHolding(false) }
        let qemu = try QEMUProcess.launch(configuration, runDirectory: directory)
        var reached: String?
        do {
            try qemu.waitUntilListening(timeout: 20)
            if let wait {
                let found = try qemu.waitForSerial([wait.marker, SerialMarkers.bug], timeout: Double(waitTimeout),
                                                   interrupted: { InterruptSignals.isPending })
                reached = qemu.serial.split(whereSeparator: \.isNewline).first { $0.contains(found) }
                    .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? found
            }
        } catch {
            qemu.stop()
            if case .interrupted = error { throw SessionError.interrupted(signal: InterruptSignals.pending) }
            throw error
        }
        qemu.release()
        let me = CommandLine.arguments.first.flatMap { $0.contains("/") ? $0 : nil } ?? "kmemscope"
        let elfArgument = elf == nil ? "" : " --elf \(Self.quoted(kernel))"
        print("""
            QEMU pid \(qemu.pid): \(kernel), -m \(configuration.memory)\(smp > 1 ? ", -smp \(smp)" : ""), append \(Self.quoted(append))\(stopped ? ", CPU stopped (-S)" : "")
            gdbstub   \(endpoint.targetString)
            serial    \(configuration.serialPath(runDirectory: directory))
            qemu log  \(qemu.logPath)
            """)
        if let memoryFile { print("guest RAM \(Self.absolute(memoryFile)) (file offset = guest physical address below 3 GiB)") }
        if let reached { print("reached   \(reached)") }
        print("""
            attach:   \(me) info --target \(Self.quoted(endpoint.targetString))\(elfArgument)
            stop:     kill \(qemu.pid)    (or: kill "$(cat \(Self.quoted(qemu.pidFile)))")
            """)
        if reached?.contains(SerialMarkers.bug) == true {
            StandardError.write("kmemscope: the kernel caught a BUG and halted (QEMU is left running to be looked at): \(reached!)")
            throw ExitCode(1)
        }
    }

    static func makeRunDirectory() throws -> String {
        var template = Array("/tmp/kmemscope-boot-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw QEMULaunchError.directory("/tmp/kmemscope-boot-XXXXXX", errno: errno) }
        return String(cString: p)
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }

    /// `text` as one shell word (single quotes when it needs any), for lines a user pastes.
    static func quoted(_ text: String) -> String {
        if !text.isEmpty && text.allSatisfy({ $0.isLetter || $0.isNumber || "/._-:=+@,".contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
