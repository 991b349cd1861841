import ArgumentParser
import AllocatorModel
import KernelLayouts

/// `kmemscope zones`: the zones of the running guest, as /proc/zoneinfo and /proc/buddyinfo
/// show them, decoded from guest memory (free blocks counted by walking the lists).
struct ZonesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zones",
        abstract: "Show the guest's zones (span, present, managed, free, watermarks) and buddyinfo.")

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func run() throws {
        if profile.isLinux {
            return print(try LinuxAttach.run(profile, stub) { linux in try LinuxViews.zones(linux, try linux.decodeBuddy()) })
        }
        let snapshot = try stub.read(image, settling: settling) { s in try SnapshotDecoder(info: s.info, memory: s.memory).decode() }
        print(image.json ? try JSONOutput.string(ZonesJSON(snapshot)) : ZoneTable.text(snapshot))
    }
}
