import ArgumentParser
import BundledState
import BundledKernel
import KernelLayouts
import KernelSession
import LinuxKernel
import AllocatorView

/// `kmemscope kmem ADDR` (as crash's `kmem <addr>`): what an address is — a direct-map or
/// kernel-image virtual address, or a physical one — which frame and block, its state, the slab
/// object it is part of, and the operations from the log that handed it out and last changed it.
struct KmemCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmem",
        abstract: "Say what an address is: frame and block, free/allocated/reserved/per-CPU, slab object, the operation that handed it out.",
        discussion: """
            ADDR is read as a kernel virtual address when it lies in the direct map (DIRECT_MAP + physical) \
            or in the kernel image (the ELF's load segments), else as a physical address; the output says \
            which. The operations come from the log ring (its last 65,536 entries). Exit 2 when the address \
            is none of these.

            """ + ViewHelp.kmem)

    @Argument(help: "The address: decimal or 0x hex.")
    var address: String

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func validate() throws {
        guard Console.number(address) != nil else { throw ValidationError("\(address) is not an address (decimal, or hex with 0x)") }
    }

    func run(in context: CommandContext) throws {
        let value = Console.number(address) ?? 0
        if profile.isLinux {
            try LinuxSnapshot.requireAddressLookups(stub)
            return print(try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux, session in
                try LinuxKmem(address: value).run(linux, session, json: image.json)
            })
        }
        let (report, names) = try GuestSource(image, stub, in: context).read(settling: settling) { s -> (AddressReport, [(String, UInt32)]) in
            let snapshot = try SnapshotDecoder(info: s.info, memory: s.memory).decode()
            let (space, physical) = try Self.resolve(value, snapshot: snapshot, info: s.info, kernel: s.kernel)
            let log = try OpLogDecoder.ring(info: s.info, memory: s.memory, upTo: snapshot.sequence)
            let owner = try? s.info.number("LARGE_HEAP_OWNER")
            guard let report = AddressReport(snapshot, address: value, space: space, physical: physical, log: log, largeHeapOwner: owner) else {
                throw SessionError.other("physical 0x\(String(physical, radix: 16)) is past the frame table (\(snapshot.frames.count) frames)")
            }
            return (report, s.info.flagNames)
        }
        print(image.json ? try JSONOutput.string(KmemJSON(report, flagNames: names)) : KmemText.text(report, flagNames: names))
    }

    /// Reads `address` as a direct-map address, a kernel-image address or a physical one.
    static func resolve(_ address: UInt64, snapshot: KernelSnapshot, info: KernelInfo, kernel: KernelImage) throws -> (AddressReport.Space, UInt64) {
        let ram = UInt64(snapshot.frames.count) &* snapshot.pageSize
        let directMap = try info.number("DIRECT_MAP")
        if address >= directMap && address - directMap < ram { return (.directMap, address - directMap) }
        if let segment = kernel.elf.loadSegments.first(where: { $0.contains(VirtualAddress(address)) }),
           let physical = segment.physicalAddress(of: VirtualAddress(address)) {
            return (.kernelImage, physical.rawValue)
        }
        if address < ram { return (.physical, address) }
        throw SessionError.other("\(hex(address)) is not in the direct map [\(hex(directMap)), \(hex(directMap &+ ram))), "
            + "the kernel image (\(kernel.elf.loadSegments.map { hex($0.virtualAddress.rawValue) }.joined(separator: ", ")) …) "
            + "or physical memory [0, \(hex(ram))): give a kernel virtual or a physical address")
    }
}
