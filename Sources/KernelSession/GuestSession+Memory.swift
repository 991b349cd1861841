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
            do {
                if let (opened, chosen) = try MemorySourceOpener.open(source, target: target, address: address, map: map) {
                    memory = opened
                    memorySource = chosen
                } else {
                    memory = stubMemory
                    memorySource = .stub
                }
            } catch let e as GuestMemoryError where source == .automatic {
                warnings.append("reading through the gdbstub (slower): \(e)")
                memory = stubMemory
                memorySource = .stub
            }
            memory = DebugTrap.wrap(memory)
            return memorySource
        } catch {
            throw SessionError(wrapping: error, address: address.description)   // a SessionError as it is, a source's as .memory
        }
    }
}
