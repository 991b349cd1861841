import ArgumentParser
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

    /// source → view → render: the zones table (``ZoneTableText``, each Linux node under its
    /// heading) or the tree; `--json` the document each kernel's users read (`ZonesJSON` with
    /// the bundled kernel's `sequence`, `LinuxZonesJSON` with `"kernel": "linux"`, `ZoneTree.Document`).
    func run(in context: CommandContext) throws {
        let read = try ViewSource(profile: profile, image: image, stub: stub, settling: settling).read(in: context)
        let view = read.view
        if tree { return print(image.json ? try JSONOutput.string(ZoneTree.Document(view)) : ZoneTreeText.text(view)) }
        if image.json {
            if let linux = read.linux { return print(try JSONOutput.string(LinuxZonesJSON(linux, view))) }
            return print(try JSONOutput.string(ZonesJSON(view)))
        }
        print(ZoneTableText.text(view) { node in read.linux.map { LinuxViews.nodeHeading($0, view, node) } ?? "node \(node.id)" })
    }
}
