import GDBRemote
import KernelLayouts

extension GuestSession {
    /// Reads guest memory from `source` from now on (the stub remains the control channel).
    /// `.automatic` takes the QEMU process when the stub is a local QEMU this user may read,
    /// and the stub otherwise (with a warning when QEMU was found but could not be read).
    /// Must be called while the guest is held (right after ``attach(kernel:to:timeout:policy:)``).
    ///
    /// - Returns: the source now in use (`.process(pid)` with the pid found).
    /// - Throws: ``SessionError/memory(_:)`` when an explicitly requested source cannot be
    ///   opened (the file is not this guest's RAM, ptrace is not allowed…); the guest is not
    ///   restored here, the caller's ``restore()`` does it.
    @discardableResult
    public func use(_ source: MemorySource) throws(SessionError) -> MemorySource {
        do {
            let map = try KernelAddressMap(info: info)
            switch source {
            case .stub:
                memory = stubMemory
                memorySource = .stub
            case .file(let path):
                memory = HeldMemory(target: target, source: try MemorySourceOpener.file(path, target, map))
                memorySource = source
            case .process(let given):
                guard let pid = given ?? QEMUProcessFinder.pid(serving: address) else {
                    throw SessionError.memory(.unusable("no QEMU process found behind \(address) (it is not local, or runs as another user): pass --qemu-pid PID"))
                }
                memory = HeldMemory(target: target, source: try MemorySourceOpener.process(pid, target, map))
                memorySource = .process(pid)
            case .automatic:
                guard let pid = QEMUProcessFinder.pid(serving: address) else { return try use(.stub) }
                do {
                    memory = HeldMemory(target: target, source: try MemorySourceOpener.process(pid, target, map))
                    memorySource = .process(pid)
                } catch let e as GuestMemoryError {
                    warnings.append("reading through the gdbstub (slower): \(e)")
                    return try use(.stub)
                }
            }
            return memorySource
        } catch let e as SessionError {
            throw e
        } catch let e as GuestMemoryError {
            throw .memory(e)
        } catch {
            throw SessionError(wrapping: error, address: address.description)
        }
    }
}
