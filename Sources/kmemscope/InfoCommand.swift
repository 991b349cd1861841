import ArgumentParser
import Foundation
import GDBRemote
import KernelLayouts

/// `kmemscope info`: attaches to the guest, reads the kernel's layout descriptor (`kmem_info`),
/// checks that the guest runs the ELF given (build-id) and that the layouts the kernel measured
/// agree with the ELF's DWARF, and prints a summary. The guest runs again afterwards.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Attach, check the guest runs this ELF, and summarise its allocator's layout descriptor.")

    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions

    func run() throws {
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
        defer { try? target.detach() }
        do {
            let memory = StubMemory(target: target)
            let info: KernelInfo
            do {
                info = try KernelInfo.read(from: memory, at: address)
            } catch GDBRemoteError.memoryAccess {
                CommandFailure.printToStandardError(
                    "kmemscope: kmem_info at 0x\(String(address, radix: 16)) is not mapped in the guest: it has not booted this kernel yet (started with -S and never continued?)")
                throw ExitCode.failure
            }
            try info.requireBuildID(kernel.elf.buildID)
            let sequence = try memory.readU64(at: try info.number("SEQUENCE"))
            let check = DescriptorCheck(info: info, kernel: kernel)
            let summary = InfoSummary(info: info, sequence: sequence, check: check, elf: image.elf)
            print(image.json ? try JSONOutput.string(summary) : summary.text)
            if !check.mismatches.isEmpty { throw ExitCode.failure }
        } catch let error as KernelInfoError {
            CommandFailure.printToStandardError("kmemscope: \(error)")
            throw ExitCode.failure
        } catch let error as GDBRemoteError {
            CommandFailure.printToStandardError("kmemscope: reading guest memory through \(stub.target): \(error)")
            throw ExitCode.failure
        }
    }
}
