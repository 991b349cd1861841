import BundledState
import GDBRemote
import KernelLayouts

/// Everything that ends a session without a verdict. Each description is one line that says
/// what happened and what to do; the command-line tool prints it and exits with status 2.
public enum SessionError: Error, CustomStringConvertible {
    /// The kernel image cannot be used.
    case image(KernelImageError)
    /// No kernel image was given and none was found; `searched` lists where it looked.
    case imageNotFound(searched: [String])
    /// The stub address cannot be parsed.
    case badAddress(RemoteAddressError)
    /// Connecting (or the first exchange) failed.
    case connect(address: String, GDBRemoteError)
    /// `kmem_info` is not mapped: the guest has not booted this kernel yet.
    case notBooted(descriptor: UInt64)
    /// The layout descriptor in guest memory is unusable or belongs to another build.
    case descriptor(KernelInfoError)
    /// Talking to the stub failed after the session was set up.
    case stub(address: String, GDBRemoteError)
    /// The state read from the guest cannot be decoded.
    case decode(SnapshotError)
    /// The guest did not leave allocator operation `sequence` within `after` (busy = `busy`).
    case stuck(sequence: UInt64, busy: UInt64, after: Duration)
    /// The guest was found stopped inside allocator operation `sequence` and may not be run.
    case stoppedInsideOperation(sequence: UInt64, busy: UInt64)
    /// While settling, the guest stopped at `pc`, a breakpoint kmemscope did not set (gdb's,
    /// beside it through `kmemscope proxy`), inside operation `sequence`: left there, so the
    /// breakpoint's owner sees its hit.
    case stoppedAtOthersBreakpoint(pc: UInt64, sequence: UInt64, busy: UInt64)
    /// The kernel halted at its own BUG (its `kmem_bug` record is written): it cannot run on.
    /// A verdict, not a failure to reach one: the kernel found a violation itself.
    case haltedAtBug(KernelBug)
    /// SIGINT or SIGTERM arrived; the guest was restored first.
    case interrupted(signal: Int32)
    /// A guest-memory source (the RAM file, the QEMU process) cannot be opened or read.
    case memory(GuestMemoryError)
    /// A snapshot file cannot be read, or does not hold what was asked.
    case snapshot(SnapshotFileError)
    /// Anything else (a message to print as it is).
    case other(String)

    public var description: String {
        switch self {
        case .image(let e): return "\(e)"
        case .imageNotFound(let searched):
            return "no kernel image given and none found (looked for kernel/build/kernel.elf in: "
                + searched.joined(separator: ", ") + "): pass --elf PATH, or run `make kernel` in the kmemscope checkout"
        case .badAddress(let e): return "--target \(e)"
        case .connect(_, let e): return "\(e)"
        case .notBooted(let address):
            return "kmem_info at 0x\(String(address, radix: 16)) is not mapped in the guest: it has not booted this kernel yet (started with -S and never continued?)"
        case .descriptor(let e): return "\(e)"
        case .stub(let address, let e): return "reading guest memory through \(address): \(e)"
        case .decode(let e): return "\(e)"
        case .stuck(let sequence, let busy, let after):
            return "the guest is stuck inside allocator operation \(sequence) (busy = \(busy), no kmem_op_end within \(after)): no verdict; the kernel may be hung or halted inside the allocator"
        case .stoppedAtOthersBreakpoint(let pc, let sequence, let busy):
            return "while settling, the guest stopped at 0x\(String(pc, radix: 16)), a breakpoint kmemscope did not set (another debugger's, e.g. gdb's through the proxy), inside allocator operation \(sequence) (busy = \(busy)): no verdict; it is left there for that debugger (its breakpoint hit is not lost); read again when it has moved on, or without --settle"
        case .stoppedInsideOperation(let sequence, let busy):
            return "the guest was found stopped inside allocator operation \(sequence) (busy = \(busy)) and kmemscope does not run a guest it found stopped: pass --settle to let it finish that operation (it stops again right after), or --resume"
        case .haltedAtBug(let bug):
            return bug.summary + (bug.kind == .boot ? " It stopped before it published kmem_info: there is no allocator state to read."
                                                    : " Read it as it is: verify, verify --replay, frame, log.")
        case .interrupted(let signal):
            return "interrupted by \(signal == 2 ? "SIGINT" : signal == 15 ? "SIGTERM" : signal == 1 ? "SIGHUP" : "signal \(signal)"); the guest was left as found"
        case .memory(let e): return "\(e)"
        case .snapshot(let e): return "\(e)"
        case .other(let message): return message
        }
    }

    /// Wraps any error from reading the guest in the case that names it.
    public init(wrapping error: any Error, address: String) {
        switch error {
        case let e as SessionError: self = e
        case GDBRemoteError.interrupted: self = .interrupted(signal: InterruptSignals.pending)
        case let e as GDBRemoteError: self = .stub(address: address, e)
        case let e as KernelInfoError: self = .descriptor(e)
        case let e as SnapshotError: self = .decode(e)
        case let e as KernelImageError: self = .image(e)
        case let e as GuestMemoryError: self = .memory(e)
        case let e as SnapshotFileError: self = .snapshot(e)
        default: self = .other("\(error)")
        }
    }
}
