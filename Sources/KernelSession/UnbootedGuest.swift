import GDBRemote
import KernelLayouts

/// A guest whose kernel has not booted yet: QEMU started with `-S` (`kmemscope boot
/// --stopped`), so the PVH loader has not even copied the kernel into memory and `kmem_info`
/// is not mapped. It is held connected and stopped; ``runToCheckpoint(stopAt:limit:)`` runs it
/// into the kernel (breakpoints by address: hardware ones, since the code is not in memory
/// yet), and ``booted()`` makes the ``GuestSession`` once the kernel has published its
/// descriptor.
public final class UnbootedGuest {
    public let kernel: KernelImage
    /// The connection (``StubSession``) held stopped; a ``GuestSession`` takes it over once booted.
    let connection: StubSession
    public var address: RemoteAddress { connection.address }
    public var target: RemoteTarget { connection.target }
    public var found: RunState { connection.found }
    public var policy: RestorePolicy { connection.policy }
    let descriptor: UInt64
    /// Set once ``booted()`` handed the connection to a session (which restores it then).
    private var handedOver = false
    public var isRestored: Bool { handedOver || connection.isRestored }

    init(kernel: KernelImage, connection: StubSession, descriptor: UInt64) {
        self.kernel = kernel
        self.connection = connection
        self.descriptor = descriptor
    }

    /// Whether the descriptor's header is in guest memory with its magic (the kernel has
    /// published it); false while it is unmapped or not yet written. A stub that fails the
    /// read is put back stopped.
    static func hasDescriptor(_ connection: StubSession, at descriptor: UInt64) throws(SessionError) -> Bool {
        do {
            let header = try connection.target.readMemory(at: descriptor, count: 8)
            return header.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } == KernelInfo.magic
        } catch GDBRemoteError.memoryAccess {
            return false
        } catch {
            connection.restoreStopped()
            throw SessionError(wrapping: error, address: connection.address.description)
        }
    }

    /// The session, if the kernel has published its descriptor by now (the guest must be
    /// stopped); nil while it has not. After a session is returned, it owns the connection.
    public func booted() throws(SessionError) -> GuestSession? {
        guard try Self.hasDescriptor(connection, at: descriptor) else { return nil }
        handedOver = true   // the session owns the connection now
        return try GuestSession.adopt(kernel: kernel, connection: connection, descriptor: descriptor)
    }

    /// Runs the guest into the kernel and on to its first `kmem_checkpoint` call: with
    /// `stopAt`, the one at the first operation boundary at or after that sequence
    /// (`kmem_stop_seq`, written once the kernel is in memory, at `kmain`), else the
    /// workload's first checkpoint. Ctrl-C ends the wait (`.interrupted`, the guest stopped);
    /// after `limit` the guest is stopped again and `GDBRemoteError.timedOut` thrown.
    public func runToCheckpoint(stopAt: UInt64?, limit: Duration) throws {
        let deadline = ContinuousClock.now + limit
        func left() throws -> Duration {
            let d = ContinuousClock.now.duration(to: deadline)
            guard d > .zero else { throw GDBRemoteError.timedOut(request: GuestSession.runTimeoutRequest, after: limit) }
            return d
        }
        if let stopAt {
            let kmain = try kernel.symbol("kmain").address.rawValue
            try target.setBreakpoint(at: kmain, kind: .hardware)
            defer { try? target.removeBreakpoint(at: kmain, kind: .hardware) }
            try target.runUntilStop(limit: try left())
            try target.writeMemory(at: try kernel.symbol("kmem_stop_seq").address.rawValue,
                                   bytes: withUnsafeBytes(of: stopAt.littleEndian, Array.init))
        }
        let checkpoint = try kernel.symbol("kmem_checkpoint").address.rawValue
        try target.setBreakpoint(at: checkpoint, kind: .hardware)
        defer { try? target.removeBreakpoint(at: checkpoint, kind: .hardware) }
        try target.runUntilStop(limit: try left())
    }

    /// Puts the guest back as ``policy`` says for how it was found (stopped: left stopped).
    public func restore() {
        guard !isRestored else { return }
        connection.needsResynchronizing = true
        connection.restore()
    }

    deinit { restore() }
}
