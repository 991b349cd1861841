import ArgumentParser
import AllocatorModel
import KernelLayouts

/// `kmemscope zones`: the zones of the running guest, as /proc/zoneinfo and /proc/buddyinfo
/// show them, decoded from guest memory (free blocks counted by walking the lists).
struct ZonesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zones",
        abstract: "Show the guest's zones (span, present, managed, free, watermarks) and buddyinfo.")

    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions

    func run() throws {
        let session = try GuestSession.open(image, stub)
        try session.run(stub) {
            let snapshot = try SnapshotDecoder(info: session.info, memory: session.memory).decode()
            print(ZoneTable.text(snapshot))
        }
    }
}
