import ArgumentParser
import Foundation
import BundledKernel
import KernelLayouts
import KernelSession

/// `kmemscope dump`: copies a range of guest memory (or the whole FrameMeta array) to a file
/// through the chosen memory source, with the guest held; `--timing` prints the read's rate.
/// What `scripts/bench.sh` times each source with, and a way to diff sources by hand.
struct DumpCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Copy guest memory (ADDRESS COUNT, or frame-meta) to a file through the chosen memory source.")

    @Argument(help: ArgumentHelp("A hex or decimal address, or frame-meta (the whole FrameMeta array).", valueName: "address"))
    var what: String

    @Argument(help: ArgumentHelp("Bytes to copy (not with frame-meta).", valueName: "count"))
    var count: String?

    @Flag(name: .long, help: "ADDRESS is guest-physical (default: kernel-virtual).")
    var physical = false

    @Option(name: [.short, .long], help: ArgumentHelp("Where the bytes go.", valueName: "file"))
    var output: String

    @Flag(name: .long, help: "Print on standard error the source, the size and the read's rate.")
    var timing = false

    @Flag(name: .long, help: "Overwrite the file if it exists.")
    var force = false

    @OptionGroup var imageOptions: TextImageOptions
    var image: ImageOptions { imageOptions.options }
    @OptionGroup var stub: TargetOptions

    /// Most bytes one dump copies (a 64 GiB guest's FrameMeta array).
    static let maximumBytes = 1 << 30

    static func number(_ s: String) -> UInt64? {
        s.hasPrefix("0x") ? UInt64(s.dropFirst(2), radix: 16) : UInt64(s)
    }

    func validate() throws {
        if image.json { throw ValidationError("dump writes raw bytes: --json does not apply (the views, verify and log have it)") }
        do { try OutputFile.check(output, force: force) } catch { throw ValidationError("--output \(error)") }
        if what == "frame-meta" {
            guard count == nil else { throw ValidationError("frame-meta takes no COUNT") }
            guard !physical else { throw ValidationError("frame-meta is found by its kernel-virtual address: drop --physical") }
        } else {
            guard Self.number(what) != nil else { throw ValidationError("ADDRESS must be a number (0x… or decimal) or frame-meta") }
            guard let c = count.flatMap(Self.number), c > 0, c <= UInt64(Self.maximumBytes) else {
                throw ValidationError("COUNT must be a number of bytes from 1 to \(Self.maximumBytes)")
            }
        }
    }

    func run(in context: CommandContext) throws {
        let clock = ContinuousClock()
        var elapsed: Duration = .zero
        var usage = ProcessUsage()
        let guest = GuestSource(image, stub, in: context)
        var source = guest.origin ?? ""
        let bytes = try guest.read(settling: nil) { s -> [UInt8] in
            if let live = s as? GuestSession { source = live.memorySource.description }
            var space = AddressSpace.kernelVirtual
            let address: UInt64, n: Int
            if what == "frame-meta" {
                address = try s.info.number("FRAME_META")
                let frames = try s.info.number("FRAME_COUNT"), stride = try s.info.size(of: "FrameMeta")
                guard frames <= SnapshotDecoder.maximumFrames, stride <= 4096 else {
                    throw SnapshotError.implausible(what: "FRAME_COUNT × SIZE(FrameMeta)", value: frames &* stride, limit: UInt64(Self.maximumBytes))
                }
                n = Int(frames * stride)
            } else {
                address = Self.number(what)!
                n = Int(Self.number(count!)!)
                if physical { space = .guestPhysical }
            }
            var out = [UInt8](repeating: 0, count: n)
            let start = clock.now, before = ProcessUsage.now()
            try out.withUnsafeMutableBytes { try s.memory.read(space, at: address, into: $0) }
            elapsed = clock.now - start
            usage = ProcessUsage.now() - before
            return out
        }
        ProgressLine.finish()
        // Written from the one buffer (no second copy of a FrameMeta-sized array); an existing
        // file only with --force (O_EXCL otherwise).
        do {
            try OutputFile.write(bytes, to: output, force: force)
        } catch {
            StandardError.write("kmemscope: \(error)")
            throw ExitCode(2)
        }
        if timing {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            StandardError.write("timing: source \(source), \(bytes.count) bytes in \(TimingLine.milliseconds(elapsed)) ms "
                + "(\(Int((Double(bytes.count) / 1048576 / max(seconds, 1e-9)).rounded())) MiB/s, \(usage.text))")
        }
    }
}
