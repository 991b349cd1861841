import ArgumentParser
import GDBRemote
import KernelLayouts
import KernelSession

/// Options every command that attaches to a running guest shares.
struct TargetOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "QEMU's gdbstub: HOST:PORT, tcp:HOST:PORT, [V6]:PORT, :PORT or unix:PATH.",
        valueName: "address"))
    var target: String = "127.0.0.1:1234"

    @Option(name: .long, help: "Seconds to wait for the stub to answer a request.")
    var timeout: Int = 10

    @Flag(name: .long, help: "Leave the guest stopped afterwards, even if it was running.")
    var leaveStopped = false

    @Flag(name: .long, help: "Let the guest run afterwards, even if it was stopped (-S, or paused from QEMU's monitor).")
    var resume = false

    @Option(name: .long, help: ArgumentHelp(
        "Where guest memory is read from: auto (QEMU's own memory when the stub is a local QEMU, else the stub), stub, file, process.",
        valueName: "source"))
    var memorySource: MemorySourceName?

    @Option(name: .long, help: ArgumentHelp(
        "Read guest RAM from this file: QEMU's -object memory-backend-file,…,mem-path=PATH,share=on (implies --memory-source file).",
        valueName: "path"))
    var memoryFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "Read guest RAM from this QEMU process with process_vm_readv (implies --memory-source process; needs ptrace rights).",
        valueName: "pid"))
    var qemuPid: Int32?

    @Option(name: .long, help: ArgumentHelp(
        "Read a snapshot file (`kmemscope snapshot -o FILE`) instead of a guest: offline, no QEMU; the ELF must be the build it was taken from.",
        valueName: "file"))
    var snapshot: String?

    @Option(name: .long, help: ArgumentHelp(
        "Linux: read a vmcore instead of a guest: QEMU's dump-guest-memory ELF core or a kdump-compressed file (dump-guest-memory -z, makedumpfile). Offline, no QEMU; with --kernel linux --symbols FILE of the same build.",
        valueName: "file"))
    var vmcore: String?

    @Option(name: .long, help: ArgumentHelp(
        "Control the guest through QEMU's QMP socket instead of the gdbstub (held by gdb, say): stop, read QEMU's memory (--qemu-pid PID), let it run again. Not settled.",
        valueName: "socket"))
    var qmp: String?

    /// `--memory-source`'s values.
    enum MemorySourceName: String, ExpressibleByArgument, CaseIterable {
        case auto, stub, file, process
    }

    /// The source the options ask for.
    var source: MemorySource {
        switch memorySource {
        case .stub: return .stub
        case .file: return .file(memoryFile ?? "")
        case .process: return .process(qemuPid)
        case .auto: return .automatic
        case nil:
            if let memoryFile { return .file(memoryFile) }
            if let qemuPid { return .process(qemuPid) }
            return .automatic
        }
    }

    func validate() throws {
        if qmp != nil {
            guard qemuPid != nil else { throw ValidationError("--qmp reads QEMU's memory: give --qemu-pid PID") }
            if snapshot != nil || memoryFile != nil || (memorySource != nil && memorySource != .process) {
                throw ValidationError("--qmp reads QEMU's process memory: --snapshot, --memory-file and other --memory-source values do not apply")
            }
        }
        if vmcore != nil {
            let live = [(snapshot != nil, "--snapshot"), (qmp != nil, "--qmp"), (memorySource != nil, "--memory-source"), (memoryFile != nil, "--memory-file"),
                        (qemuPid != nil, "--qemu-pid"), (leaveStopped, "--leave-stopped"), (resume, "--resume")].filter(\.0).map(\.1)
            if let first = live.first { throw ValidationError("--vmcore reads a dump file, not a guest: \(first) does not apply") }
        }
        if snapshot != nil {
            let live = [(memorySource != nil, "--memory-source"), (memoryFile != nil, "--memory-file"), (qemuPid != nil, "--qemu-pid"),
                        (leaveStopped, "--leave-stopped"), (resume, "--resume")].filter(\.0).map(\.1)
            if let first = live.first { throw ValidationError("--snapshot reads a file, not a guest: \(first) does not apply") }
        }
        if memorySource == .file && memoryFile == nil { throw ValidationError("--memory-source file needs --memory-file PATH") }
        if memoryFile != nil && qemuPid != nil { throw ValidationError("--memory-file and --qemu-pid name two sources: give one") }
        if let m = memorySource, (memoryFile != nil && m != .file) || (qemuPid != nil && m != .process) {
            throw ValidationError("--memory-source \(m.rawValue) contradicts \(memoryFile != nil ? "--memory-file" : "--qemu-pid")")
        }
        if let qemuPid, qemuPid <= 0 { throw ValidationError("--qemu-pid must be a process id (a positive number)") }
        do {
            _ = try RemoteAddress.parse(target)
        } catch {
            throw ValidationError("--target \(error)")
        }
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be 1…86400 seconds, not \(timeout)") }
        guard !(leaveStopped && resume) else { throw ValidationError("--leave-stopped and --resume contradict each other: give one") }
    }

    /// The refusal of `--vmcore` for the bundled kernel (whose offline form is a snapshot file).
    static func vmcoreNeedsLinux(_ path: String) -> String {
        "--vmcore \(path) is a Linux dump: read it with --kernel linux --symbols FILE (the bundled kernel's offline form is --snapshot)"
    }

    /// What happens to the guest when the command ends (by default: as it was found).
    var policy: RestorePolicy { leaveStopped ? .leaveStopped : resume ? .resume : .asFound }

    /// Opens the image and connects to the stub: the guest stops while kmemscope looks (a
    /// command reaches this through ``GuestSource/attach()``, which in a console takes the
    /// console's session instead).
    func connect(_ image: ImageOptions) throws(SessionError) -> GuestSession {
        let (kernel, address) = try endpoint(image)
        let session = try GuestSession.attach(kernel: kernel, to: address, timeout: .seconds(timeout), policy: policy)
        try prepare(session)
        return session
    }

    /// Connects like ``connect(_:)``, but keeps a guest whose kernel has not booted yet
    /// (`boot --stopped`) as an ``UnbootedGuest`` (the `attach` console runs it on request).
    func connectAllowingUnbooted(_ image: ImageOptions) throws(SessionError) -> GuestSession.Attachment {
        let (kernel, address) = try endpoint(image)
        let attachment = try GuestSession.attachAllowingUnbooted(kernel: kernel, to: address, timeout: .seconds(timeout), policy: policy)
        if case .booted(let session) = attachment { try prepare(session) }
        return attachment
    }

    /// The image and the stub's address, for a live guest (`--vmcore` is refused: it is Linux's).
    private func endpoint(_ image: ImageOptions) throws(SessionError) -> (KernelImage, RemoteAddress) {
        if let vmcore { throw .other(Self.vmcoreNeedsLinux(vmcore)) }
        let kernel = try image.open()
        do {
            return (kernel, try RemoteAddress.parse(target))
        } catch {
            throw .badAddress(error)
        }
    }

    /// Opens the memory source these options name and the progress line for `session`
    /// (restoring the guest if that fails).
    func prepare(_ session: GuestSession) throws(SessionError) {
        do {
            try session.use(source)
            session.reportProgress(to: ProgressLine.reporter)
        } catch {
            session.restore()
            throw error
        }
    }
}
