import GDBRemote
import Glibc
import Synchronization

/// The stub's socket while a session holds a guest it must give back running (-1: none).
private let guardedSocket = Atomic<Int32>(-1)
/// The bytes the fatal-signal handler writes to ``guardedSocket``: prepared when the guard is
/// armed, so the handler only calls write(2). Room for `\u{03}$D;1#xx`.
nonisolated(unsafe) private let preparedPacket = UnsafeMutablePointer<UInt8>.allocate(capacity: 16)
private let preparedLength = Atomic<Int>(0)

/// Signal numbers the guard catches, and the actions that were in place before it (restored
/// before the signal is raised again, so a Swift backtracer installed by the runtime still runs).
private let fatalSignals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGABRT, SIGBUS, SIGFPE]
nonisolated(unsafe) private let previousActions = UnsafeMutablePointer<sigaction>.allocate(capacity: 32)

/// The guest's last chance when kmemscope itself dies: from the moment a session stops a guest
/// it will give back running until it gives it back, a fatal signal (a Swift runtime trap —
/// SIGILL or SIGTRAP —, SIGSEGV, SIGABRT, SIGBUS, SIGFPE) first lets the guest run, then the
/// process dies of that signal as it would have.
///
/// Letting the guest run is one write(2) of a packet prepared when the guard was armed:
/// `0x03` (which stops a guest the console left running; QEMU swallows the byte that stops it)
/// then the detach request (`D;1` or `D`), which makes QEMU remove this client's breakpoints and
/// continue the guest. Replies to requests still in flight are answered first, in order, and
/// nobody reads them. The handler then writes `kmemscope: <signal>: resumed the guest before
/// exiting` to standard error, restores the action that was in place before (the default, or the
/// Swift runtime's backtracer) and raises the signal again.
///
/// ``GuestSession`` and ``StubSession`` arm the guard when they connect (if their policy will
/// resume the guest) and disarm it before they put the guest back.
public enum GuestGuard {
    /// Installs the fatal-signal handlers (once per process; ``InterruptSignals/install()`` calls it).
    public static func install() {
        guard !installed.exchange(true, ordering: .relaxed) else { return }
        // an alternate stack for this (the main) thread, so a stack overflow's SIGSEGV can still
        // run the handler (unless the runtime already gave the thread one)
        var current = stack_t()
        if sigaltstack(nil, &current) == 0, current.ss_flags & Int32(SS_DISABLE) != 0 {
            let size = 64 << 10
            var alternate = stack_t(ss_sp: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16), ss_flags: 0, ss_size: size)
            sigaltstack(&alternate, nil)
        }
        for s in fatalSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in GuestGuard.handleFatal(signal) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(SA_NODEFER) | Int32(SA_ONSTACK)
            sigaction(s, &action, previousActions + Int(s))
        }
    }

    private static let installed = Atomic<Bool>(false)

    /// Arms the guard for `target`'s socket (only a socket transport has one).
    static func arm(_ target: RemoteTarget) {
        guard let socket = target.connection.transport as? SocketTransport, socket.fileDescriptor >= 0 else { return }
        let request = target.features.supports("multiprocess") ? "D;1" : "D"
        let packet = [0x03] + PacketCodec.frame(Array(request.utf8))
        guardedSocket.store(-1, ordering: .sequentiallyConsistent)
        for (i, byte) in packet.prefix(16).enumerated() { preparedPacket[i] = byte }
        preparedLength.store(min(packet.count, 16), ordering: .sequentiallyConsistent)
        guardedSocket.store(socket.fileDescriptor, ordering: .sequentiallyConsistent)
    }

    /// Disarms the guard (before the socket is closed, so the handler never writes to a reused descriptor).
    static func disarm(_ target: RemoteTarget) {
        guard let socket = target.connection.transport as? SocketTransport else { return }
        let fd = socket.fileDescriptor
        _ = guardedSocket.compareExchange(expected: fd, desired: -1, ordering: .sequentiallyConsistent)
    }

    /// Whether a guest would be resumed by a fatal signal now (for tests).
    public static var isArmed: Bool { guardedSocket.load(ordering: .sequentiallyConsistent) >= 0 }

    /// The signal handler: only async-signal-safe calls (write(2), sigaction, raise).
    private static func handleFatal(_ signal: Int32) {
        let fd = guardedSocket.exchange(-1, ordering: .sequentiallyConsistent)
        if fd >= 0 {
            let length = preparedLength.load(ordering: .sequentiallyConsistent)
            _ = Glibc.send(fd, preparedPacket, length, Int32(MSG_NOSIGNAL))
            let message: StaticString
            switch signal {
            case SIGILL: message = "kmemscope: fatal SIGILL (a runtime trap): resumed the guest before exiting\n"
            case SIGTRAP: message = "kmemscope: fatal SIGTRAP (a runtime trap): resumed the guest before exiting\n"
            case SIGSEGV: message = "kmemscope: fatal SIGSEGV: resumed the guest before exiting\n"
            case SIGABRT: message = "kmemscope: fatal SIGABRT: resumed the guest before exiting\n"
            case SIGBUS: message = "kmemscope: fatal SIGBUS: resumed the guest before exiting\n"
            default: message = "kmemscope: fatal signal: resumed the guest before exiting\n"
            }
            _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
        }
        // Die as we would have: the action from before (default or the runtime's backtracer).
        sigaction(signal, previousActions + Int(signal), nil)
        raise(signal)
    }
}
