import ArgumentParser

@main
struct Kmemscope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmemscope",
        abstract: "See and check the physical memory allocator of a kernel running in QEMU.",
        subcommands: [InfoCommand.self, ZonesCommand.self, VerifyCommand.self, LogCommand.self, SymCommand.self, LayoutCommand.self,
                      LinuxBuddyinfoCommand.self])
}
