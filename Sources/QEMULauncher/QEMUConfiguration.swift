/// What to start: `qemu-system-x86_64` under TCG with a kernel (or none: the CPU sits at the
/// reset vector), RAM, a kernel command line, the gdbstub, the serial port in a file, and
/// the options the tools and tests need. ``arguments(runDirectory:)`` turns it into an argv;
/// no shell ever sees it.
public struct QEMUConfiguration: Sendable {
    /// The kernel ELF booted through its PVH note (`-kernel`), or nil for no kernel.
    public var kernel: String?
    /// Guest RAM (`-m`, and the backend file's size with ``memoryFile``).
    public var memory: MemorySize
    /// The kernel command line (`-append`), passed as one argument.
    public var append: String
    /// The gdbstub, or nil for none.
    public var gdb: GDBEndpoint?
    /// `-S`: the CPU stays stopped until a debugger continues it.
    public var startStopped: Bool
    /// Guest RAM shared through this file (`-object memory-backend-file,…,share=on`), so another
    /// process can read guest physical memory from it (file offset = guest physical address below the PCI hole).
    public var memoryFile: String?
    /// The serial port's file (default: `serial.txt` in the run directory).
    public var serialFile: String?
    /// QEMU's human monitor on this Unix socket, or nil for none.
    public var monitorSocket: String?
    /// Adds `isa-debug-exit` at port 0xf4, so the kernel's `exit=1` ends QEMU with a status.
    public var debugExit: Bool
    /// `-nodefaults -no-user-config`: no default devices (no VGA, NIC, floppy).
    public var noDefaults: Bool
    /// Virtual CPUs (`-smp N`; omitted at 1, QEMU's default; more than one also selects
    /// single-threaded TCG). The bundled kernel starts them all (up to 16) and prints `kmem: cpus N`.
    public var cpus: Int
    /// With several CPUs, QEMU's multi-threaded TCG (one host thread per vCPU, so the CPUs
    /// really run at once) instead of the single-threaded default chosen here (see
    /// ``arguments(runDirectory:)``); for the kernel's `locktest=`, which wants CPUs that race.
    public var multiThreadedTCG = false
    /// Appended as they are (e.g. `-initrd FILE`); never parsed by a shell.
    public var extraArguments: [String]
    /// The QEMU executable, looked up on `PATH` when it has no slash.
    public var executable: String

    public init(kernel: String?, memory: MemorySize, append: String = "", gdb: GDBEndpoint? = nil,
                startStopped: Bool = false, memoryFile: String? = nil, serialFile: String? = nil,
                monitorSocket: String? = nil, debugExit: Bool = false, noDefaults: Bool = false,
                cpus: Int = 1, extraArguments: [String] = [], executable: String = "qemu-system-x86_64") {
        self.kernel = kernel
        self.memory = memory
        self.append = append
        self.gdb = gdb
        self.startStopped = startStopped
        self.memoryFile = memoryFile
        self.serialFile = serialFile
        self.monitorSocket = monitorSocket
        self.debugExit = debugExit
        self.noDefaults = noDefaults
        self.cpus = cpus
        self.extraArguments = extraArguments
        self.executable = executable
    }

    /// The serial file used in `runDirectory`.
    public func serialPath(runDirectory: String) -> String { serialFile ?? runDirectory + "/serial.txt" }

    /// The full argv (executable first), with the pidfile in `runDirectory`.
    public func arguments(runDirectory: String) -> [String] {
        var a = [executable]
        if noDefaults { a += ["-nodefaults", "-no-user-config"] }
        if let kernel { a += ["-kernel", kernel, "-append", append] }
        a += ["-m", memory.description]
        if cpus > 1 { a += ["-smp", String(cpus)] }
        // Several CPUs: one host thread runs them all in turn (single-threaded TCG). The bundled
        // kernel's workload runs one CPU at a time anyway (kernel/README.md "Workload"), and a
        // waiting CPU's `pause` hands the thread on at once, where multi-threaded TCG would wait
        // for the host to schedule the next vCPU's thread (measured: 5x slower at -smp 4 on 2
        // cores). The operation log is the same either way.
        a += ["-display", "none", "-no-reboot", "-accel", cpus > 1 && !multiThreadedTCG ? "tcg,thread=single" : "tcg",
              "-pidfile", runDirectory + "/qemu.pid"]
        if let memoryFile {
            a += ["-object", "memory-backend-file,id=ram,size=\(memory.description),mem-path=\(QEMUOption.escape(memoryFile)),share=on",
                  "-machine", "memory-backend=ram"]
        }
        a += ["-chardev", "file,id=serial0,path=\(QEMUOption.escape(serialPath(runDirectory: runDirectory)))", "-serial", "chardev:serial0"]
        if let monitorSocket {
            a += ["-chardev", "socket,id=mon0,path=\(QEMUOption.escape(monitorSocket)),server=on,wait=off", "-mon", "chardev=mon0,mode=readline"]
        } else if !noDefaults {
            a += ["-monitor", "none"]
        }
        if let gdb { a += gdb.qemuArguments }
        if startStopped { a.append("-S") }
        if debugExit { a += ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"] }
        return a + extraArguments
    }
}
