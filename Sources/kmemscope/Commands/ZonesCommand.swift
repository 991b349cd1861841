import ArgumentParser
import AllocatorModel
import AllocatorText
import BundledKernel
import KernelLayouts
import LinuxKernel

/// `kmemscope zones`: the zones of the running guest, as /proc/zoneinfo and /proc/buddyinfo
/// show them, decoded from guest memory (free blocks counted by walking the lists).
struct ZonesCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "zones",
        abstract: "Show the guest's zones (span, present, managed, free, watermarks) and buddyinfo.",
        discussion: ViewHelp.zones)

    @Flag(help: "Zones → segments → orders (zones → orders on Linux): each segment's range and free pages, and per order the free blocks of each migratetype.")
    var tree = false

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func run(in context: CommandContext) throws {
        if profile.isLinux {
            return print(try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux in
                let view = linux.allocatorView(try LinuxAttach.allNodes(linux, in: context).map { try linux.decodeBuddy(node: $0) })
                if tree { return image.json ? try JSONOutput.string(ZoneTree.Document(view)) : ZoneTreeText.text(view) }
                return image.json ? try JSONOutput.string(LinuxZonesJSON(linux, view)) : LinuxViews.zones(linux, view)
            })
        }
        let snapshot = try GuestSource(image, stub, in: context).read(settling: settling) { s in try SnapshotDecoder(info: s.info, memory: s.memory).decode() }
        let view = snapshot.allocatorView(FreeListCensus(snapshot))
        if tree { return print(image.json ? try JSONOutput.string(ZoneTree.Document(view)) : ZoneTreeText.text(view)) }
        print(image.json ? try JSONOutput.string(ZonesJSON(snapshot)) : ZoneTableText.text(view))
    }
}
