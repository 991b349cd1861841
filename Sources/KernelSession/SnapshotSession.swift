import KernelLayouts

/// A snapshot file opened for the views and `verify`, offline: no QEMU, no stub. The kernel
/// image must be the build the snapshot was taken from (same GNU build-id).
public final class SnapshotSession: GuestView {
    /// The file, checked end to end.
    public let file: SnapshotFile
    public let kernel: KernelImage
    public let info: KernelInfo
    public var memory: any GuestMemory { file.memory }

    /// Opens `path` for `kernel`.
    /// - Throws: ``SessionError/snapshot(_:)`` for a missing, foreign or damaged file,
    ///   `.descriptor` when the image is another build than the snapshot's.
    public init(path: String, kernel: KernelImage) throws(SessionError) {
        do {
            file = try SnapshotFile(path: path)
        } catch {
            throw .snapshot(error)
        }
        self.kernel = kernel
        let mine = kernel.elf.buildID?.description ?? "(none)"
        guard mine == file.header.buildID else {
            throw .other("the snapshot \(path) was taken from kernel build \(file.header.buildID) (\(file.header.elf)), "
                + "but \(kernel.path) is build \(mine): pass --elf with the image it was taken from")
        }
        do {
            info = try KernelInfo.read(from: file.memory, at: file.header.descriptor)
            try info.requireBuildID(kernel.elf.buildID)
            do {
                _ = try DescriptorCrossCheck(info: info, kernel: kernel, memory: file.memory)
            } catch let error as SnapshotFileError {
                guard case .notHeld = error else { throw error }
                throw SessionError.other("the snapshot \(path) does not hold what kmem_info is cross-checked with (\(error)): "
                    + "it was taken by an older kmemscope; take it again")
            }
        } catch {
            throw SessionError(wrapping: error, address: path)
        }
    }

    /// The boot the snapshot was taken from: the stored descriptor's identity (the header's
    /// `boot:` line says the same for a reader of the file); nil for an older kernel's snapshot.
    public var bootIdentity: BootIdentity? { info.bootIdentity ?? file.header.boot }

    /// The sequence and moment the snapshot shows, as a one-line note for standard error.
    public var note: String {
        let h = file.header
        return "from snapshot \(file.path): sequence \(h.sequence)\(h.betweenOperations ? ", between operations" : ""), taken \(h.taken)"
    }

    public func register(_ name: String) throws -> UInt64 {
        guard let value = file.header.register(name) else {
            throw SessionError.other("the snapshot \(file.path) holds no register \(name) (it holds \(file.header.registers.map(\.name).joined(separator: ", ")))")
        }
        return value
    }
}
