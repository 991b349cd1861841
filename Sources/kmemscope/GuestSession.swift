import ArgumentParser
import GDBRemote
import KernelLayouts

/// What every command that looks at a running guest starts with: the kernel image, an
/// attached stub, and the guest's layout descriptor, checked to belong to that image.
/// Errors are printed as one `kmemscope: …` line and become exit status 1.
struct GuestSession {
    let kernel: KernelImage
    let target: RemoteTarget
    let memory: StubMemory
    let info: KernelInfo

    static func open(_ image: ImageOptions, _ stub: TargetOptions) throws -> GuestSession {
        let kernel: KernelImage
        let address: UInt64
        do {
            kernel = try KernelImage(path: image.elf)
            address = try kernel.symbol("kmem_info").address.rawValue
        } catch {
            throw CommandFailure.report(error)
        }
        let target: RemoteTarget
        do {
            target = try stub.connect()
        } catch {
            CommandFailure.printToStandardError("kmemscope: cannot attach to \(stub.target): \(error)")
            throw ExitCode.failure
        }
        let memory = StubMemory(target: target)
        do {
            let info = try KernelInfo.read(from: memory, at: address)
            try info.requireBuildID(kernel.elf.buildID)
            return GuestSession(kernel: kernel, target: target, memory: memory, info: info)
        } catch GDBRemoteError.memoryAccess {
            try? target.detach()
            CommandFailure.printToStandardError(
                "kmemscope: kmem_info at 0x\(String(address, radix: 16)) is not mapped in the guest: it has not booted this kernel yet (started with -S and never continued?)")
            throw ExitCode.failure
        } catch {
            try? target.detach()
            throw Self.report(error, stub)
        }
    }

    /// Runs `body`, then detaches (the guest runs again); errors become one line and exit 1.
    func run(_ stub: TargetOptions, _ body: () throws -> Void) throws {
        defer { try? target.detach() }
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Self.report(error, stub)
        }
    }

    static func report(_ error: Error, _ stub: TargetOptions) -> ExitCode {
        if error is GDBRemoteError {
            CommandFailure.printToStandardError("kmemscope: reading guest memory through \(stub.target): \(error)")
        } else {
            CommandFailure.printToStandardError("kmemscope: \(error)")
        }
        return ExitCode.failure
    }
}
