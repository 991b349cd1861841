import BundledState
import GDBRemote
import BundledKernel
import KernelLayouts

/// One attachment to a guest running the bundled kernel, from connect to restore: the kernel
/// image, the stub, the guest's layout descriptor (checked to belong to that image), how the
/// guest was found (running or stopped), and the promise to leave it that way.
///
/// ```swift
/// let session = try GuestSession.attach(kernel: image, to: .tcp("127.0.0.1", 1234))
/// let snapshot = try session.read { s in
///     _ = try s.settle()                        // to an operation boundary
///     return try SnapshotDecoder(info: s.info, memory: s.memory).decode()
/// }                                             // the guest is back as it was found here
/// ```
///
/// Every way out restores the guest: ``read(_:)`` restores on success and on error, attaching
/// restores if the descriptor cannot be read, and SIGINT/SIGTERM (with
/// ``InterruptSignals/install()``) end the wait in progress so that the same path runs.
/// Nothing here writes guest memory; settling sets one breakpoint and removes it.
public final class GuestSession {
    /// The kernel image the guest is checked against.
    public let kernel: KernelImage
    /// The connection this session is built on: the stub, the memory source, how the guest
    /// was found, the held read and the restore (what the Linux profile uses on its own).
    public let connection: StubSession
    /// Where the stub listens.
    public var address: RemoteAddress { connection.address }
    /// The attached stub.
    public var target: RemoteTarget { connection.target }
    /// Guest memory as the session reads it: the stub, or the faster source ``use(_:)`` chose.
    public internal(set) var memory: any GuestMemory {
        get { connection.memory }
        set { connection.memory = newValue }
    }
    /// Guest memory through the stub (always available; what the other sources are checked against).
    public var stubMemory: StubMemory { connection.stubMemory }
    /// The source ``memory`` reads from (`.stub` until ``use(_:)`` picks another).
    public internal(set) var memorySource: MemorySource {
        get { connection.memorySource }
        set { connection.memorySource = newValue }
    }
    /// The guest's layout descriptor (`kmem_info`), with the ELF's build-id.
    public let info: KernelInfo
    /// Whether the guest was running when the session attached.
    public var found: RunState { connection.found }
    /// What happens to the guest at the end.
    public var policy: RestorePolicy { connection.policy }
    /// Things a command should tell the user (on standard error), such as an old kernel
    /// without an operation-boundary word.
    public internal(set) var warnings: [String] = []
    /// True once the guest has been put back (after that the session cannot read).
    public var isRestored: Bool { connection.isRestored }
    /// Breakpoints this session inserted and has not removed yet (kept by the connection,
    /// which removes them on a failed read and when it puts the guest back).
    var breakpoints: Set<UInt64> {
        get { connection.breakpoints }
        set { connection.breakpoints = newValue }
    }
    /// When true, ``read(_:)`` keeps the guest attached (and stopped) afterwards instead of
    /// restoring it: the `attach` console runs many commands on one session and restores the
    /// guest once, when it quits. After a failed read the stub is resynchronised at once.
    public var keepsAttached: Bool {
        get { connection.keepsAttached }
        set { connection.keepsAttached = newValue }
    }
    /// On a guest of several CPUs, the boot CPU's thread, selected (`Hg`) for register reads
    /// when the session attached; nil on one CPU.
    public internal(set) var bootCPUThread: String?
    /// The thread this session last selected for register reads (`Hg`): the boot CPU's on
    /// attaching, the stopping CPU's after settling ran the guest to an operation's end.
    var selectedThread: String?

    init(kernel: KernelImage, connection: StubSession, info: KernelInfo) {
        self.kernel = kernel
        self.connection = connection
        self.info = info
    }

    /// How long a stub may stay silent after accepting the connection before it is taken to
    /// be held by another debugger (``StubSession/greetingTimeout``).
    public static var greetingTimeout: Duration { StubSession.greetingTimeout }

    /// Connects to the stub at `address`, notes whether the guest was running, and reads and
    /// checks the guest's layout descriptor.
    ///
    /// - Parameters:
    ///   - timeout: bounds the connection and each request (a pipelined read's stalls, not its length).
    ///   - policy: what to do with the guest at the end.
    /// - Throws: ``SessionError``: `.image` without a `kmem_info` symbol, `.connect`,
    ///   `.notBooted`, `.descriptor` (another build's guest), `.stub`, `.interrupted`. The
    ///   guest is restored before any error after the connection is thrown.
    public static func attach(kernel: KernelImage, to address: RemoteAddress,
                              timeout: Duration = .seconds(10),
                              policy: RestorePolicy = .asFound) throws(SessionError) -> GuestSession {
        let descriptor: UInt64
        do {
            descriptor = try kernel.symbol("kmem_info").address.rawValue
        } catch .symbolNotFound, .noSymbolTable {
            throw .other(notKmemscopeKernel(kernel.path))
        } catch {
            throw .image(error)
        }
        let connection = try StubSession.attach(to: address, timeout: timeout, policy: policy)
        return try adopt(kernel: kernel, connection: connection, descriptor: descriptor)
    }

    /// What ``attachAllowingUnbooted(kernel:to:timeout:policy:)`` found.
    public enum Attachment {
        /// The kernel has published its descriptor: a session.
        case booted(GuestSession)
        /// The kernel is not in memory yet or has not published `kmem_info` (QEMU `-S`).
        case unbooted(UnbootedGuest)
    }

    /// Like ``attach(kernel:to:timeout:policy:)``, but a guest whose kernel has not booted yet
    /// (its `kmem_info` not mapped: QEMU started with `-S`) is kept connected and stopped as an
    /// ``UnbootedGuest`` instead of being refused, so it can be run to the kernel.
    public static func attachAllowingUnbooted(kernel: KernelImage, to address: RemoteAddress,
                                              timeout: Duration = .seconds(10),
                                              policy: RestorePolicy = .asFound) throws(SessionError) -> Attachment {
        let descriptor: UInt64
        do {
            descriptor = try kernel.symbol("kmem_info").address.rawValue
        } catch {
            throw .image(error)
        }
        let connection = try StubSession.attach(to: address, timeout: timeout, policy: policy)
        if !(try UnbootedGuest.hasDescriptor(connection, at: descriptor)) {
            return .unbooted(UnbootedGuest(kernel: kernel, connection: connection, descriptor: descriptor))
        }
        return .booted(try adopt(kernel: kernel, connection: connection, descriptor: descriptor))
    }

    /// Reads and checks the descriptor through a connected, stopped `connection` and makes the
    /// session on it; on failure the guest is put back (as its policy says) and the error thrown.
    static func adopt(kernel: KernelImage, connection: StubSession, descriptor: UInt64) throws(SessionError) -> GuestSession {
        let target = connection.target
        let info: KernelInfo
        let crossCheck: DescriptorCrossCheck
        do {
            info = try KernelInfo.read(from: StubMemory(target: target), at: descriptor)
            try info.requireBuildID(kernel.elf.buildID)
            crossCheck = try DescriptorCrossCheck(info: info, kernel: kernel, memory: StubMemory(target: target))
        } catch {
            let failure: SessionError
            var resynchronize = false
            if let bug = Self.bootBug(kernel, target) {
                failure = .haltedAtBug(bug)   // it stopped at a BUG before it wrote kmem_info
            } else if case GDBRemoteError.memoryAccess = error {
                failure = .notBooted(descriptor: descriptor)
            } else {
                resynchronize = true
                failure = SessionError(wrapping: error, address: connection.address.description)
            }
            connection.needsResynchronizing = resynchronize
            connection.restore()
            throw failure
        }
        let session = GuestSession(kernel: kernel, connection: connection, info: info)
        session.warnings += crossCheck.warnings
        do {
            try session.selectBootCPUThread()
        } catch {
            session.restore()
            throw SessionError(wrapping: error, address: connection.address.description)
        }
        if InterruptSignals.isPending {
            session.restore()
            throw .interrupted(signal: InterruptSignals.pending)
        }
        return session
    }

    /// The BUG record of a kernel that halted before it published `kmem_info` (a boot
    /// failure), read at the image's `kmem_bug` with the README's fixed layout; nil otherwise.
    static func bootBug(_ kernel: KernelImage, _ target: RemoteTarget) -> KernelBug? {
        guard let address = try? kernel.symbol("kmem_bug").address.rawValue else { return nil }
        return (try? BugRecordDecoder.decode(fixedLayoutAt: address, memory: StubMemory(target: target))) ?? nil
    }

    /// What is said of an image without the layout descriptor (`kmem_info`).
    public static func notKmemscopeKernel(_ path: String) -> String {
        "\(path) is not the kmemscope kernel: it has no kmem_info layout descriptor "
            + "(give --elf the kernel/build/kernel.elf the guest booted, or --kernel linux --symbols FILE for a Linux guest)"
    }

    /// Runs `body` with the guest held, then restores the guest, on every path (the
    /// connection's ``StubSession/read(_:)``: errors become the ``SessionError`` that names
    /// them; a signal that arrived meanwhile becomes `.interrupted` even if `body` finished; in
    /// a console's session a failed read leaves no breakpoint of this command behind).
    public func read<T>(_ body: (GuestSession) throws -> T) throws(SessionError) -> T {
        try connection.read { _ in try body(self) }
    }

    /// Puts the guest back (``StubSession/restore()``): removes this session's breakpoints,
    /// then detaches or disconnects as ``policy`` says for how it was ``found``. Safe to call
    /// more than once; never throws (the connection may be gone).
    public func restore() {
        connection.restore()
    }

    deinit { restore() }
}
