import BundledKernel
import KernelLayouts

/// What a command reads the bundled kernel's state through: a live guest held at an operation
/// boundary (``GuestSession``) or a snapshot file taken from one (``SnapshotSession``). Views
/// and `verify` are written against this, so they run the same way on either.
public protocol GuestView: AnyObject {
    /// The kernel image (its build-id matches the guest's or the snapshot's).
    var kernel: KernelImage { get }
    /// The guest's layout descriptor (`kmem_info`).
    var info: KernelInfo { get }
    /// Guest memory: the live guest through the session's source, or the snapshot's bytes.
    var memory: any GuestMemory { get }
    /// A register of the stopped CPU (`cr0`, `cr3`, `cr4`, `rip`…).
    func register(_ name: String) throws -> UInt64
    /// Register `name` of every CPU the view can see (a live guest of several CPUs: each
    /// vCPU's thread; otherwise the one CPU of ``register(_:)``).
    func registerOfEveryCPU(_ name: String) throws -> [UInt64]
}

extension GuestView {
    public func registerOfEveryCPU(_ name: String) throws -> [UInt64] { [try register(name)] }
}

extension GuestSession: GuestView {
    public func register(_ name: String) throws -> UInt64 { try target.register(name) }

    /// On a guest of several CPUs each vCPU thread's register (the workload runs on every CPU
    /// in turns, so a BUG may stop any of them), the thread the session had selected for
    /// register reads selected again; on one CPU ``register(_:)``.
    public func registerOfEveryCPU(_ name: String) throws -> [UInt64] {
        guard bootCPUThread != nil else { return [try register(name)] }
        return try eachThread { _ in try target.register(name) }.map(\.value)
    }
}
