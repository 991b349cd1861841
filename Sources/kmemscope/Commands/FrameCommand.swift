import ArgumentParser
import BundledState
import BundledKernel
import KernelLayouts
import LinuxKernel

/// `kmemscope frame PFN [COUNT]`: decoded FrameMeta of one or a few frames, with the block it
/// belongs to and the operation that last changed it (page_owner in miniature).
struct FrameCommand: GuestCommand {
    static let configuration = CommandConfiguration(
        commandName: "frame",
        abstract: "Show frames' metadata: flags by name, the block, zone and segment, and the operation that last changed each.",
        discussion: ViewHelp.frame)

    @Argument(help: "The first frame: a PFN (decimal or 0x hex).")
    var pfn: String?

    @Option(name: .long, help: ArgumentHelp("The frame holding this address instead of a PFN: a kernel virtual address (direct map or kernel image) or a physical one, as `kmem` reads it.", valueName: "addr"))
    var address: String?

    @Argument(help: ArgumentHelp("How many frames (1…64). With --address, a single number after the command is this count.", valueName: "count"))
    var countArgument: Int?

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func validate() throws {
        switch (pfn, address) {
        case (nil, nil): throw ValidationError("give a PFN or --address ADDR")
        case (.some(let p), .some):
            guard countArgument == nil, let n = Int(p), (1...64).contains(n) else {
                throw ValidationError("give a PFN or --address ADDR [COUNT], not both")
            }
        case (.some(let p), nil):
            guard let first = parsedPFN else { throw ValidationError("\(p) is not a PFN (decimal, or hex with 0x)") }
            guard first <= Self.maximumPFN, first + UInt64(max(min(count, 64), 1)) - 1 <= Self.maximumPFN else {
                throw ValidationError("PFN \(p) is out of range: PFN (with COUNT) must be 0…0x\(String(Self.maximumPFN, radix: 16)) (52-bit physical addresses)")
            }
        case (nil, .some):
            guard !profile.isLinux else { throw ValidationError("--address reads the bundled kernel's mappings: give a PFN with --kernel linux") }
        }
        guard (1...64).contains(count) else { throw ValidationError("COUNT must be 1…64") }
        if let a = address, Console.number(a) == nil { throw ValidationError("--address \(a) is not an address (decimal, or hex with 0x)") }
    }

    var parsedPFN: UInt64? { address == nil ? pfn.flatMap(Console.number) : nil }

    /// `count` PFNs from `first`, cut at `UInt64.max` (a PFN taken from an address with a
    /// guest's page size cannot be checked before the guest is read).
    static func frames(from first: UInt64, count: Int) -> ClosedRange<UInt64> {
        let (last, overflow) = first.addingReportingOverflow(UInt64(max(count, 1) - 1))
        return first...(overflow ? .max : last)
    }

    /// The largest PFN of a 52-bit physical address space (x86_64's architectural limit).
    static let maximumPFN: UInt64 = (1 << 40) - 1

    /// How many frames: COUNT, or with --address the one number given.
    var count: Int { countArgument ?? (address != nil ? pfn.flatMap { Int($0) } : nil) ?? 1 }

    func run(in context: CommandContext) throws {
        var first = parsedPFN ?? 0
        if profile.isLinux {
            let text = try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux -> String in
                let state = try linux.decodeBuddy(holding: first)
                let pages = try (Self.frames(from: first, count: count)).map { try linux.page($0, vmemmapBase: state.vmemmapBase) }
                if image.json { return try JSONOutput.string(LinuxFrameJSON(linux, pages, state)) }
                return pages.map { LinuxViews.frame(linux, $0, state) }.joined(separator: "\n")
            }
            return print(text)
        }
        var resolved: (AddressReport.Space, UInt64)?
        let (snapshot, names, log) = try GuestSource(image, stub, in: context).read(settling: settling) { s -> (KernelSnapshot, [(String, UInt32)], [UInt64: OpLogRecord]) in
            let snapshot = try SnapshotDecoder(info: s.info, memory: s.memory).decode()
            let names = s.info.flagNames
            if let address = address.flatMap(Console.number) {
                resolved = try KmemCommand.resolve(address, snapshot: snapshot, info: s.info, kernel: s.kernel)
                first = (resolved?.1 ?? 0) / max(snapshot.pageSize, 1)
            }
            var log: [UInt64: OpLogRecord] = [:]
            for p in Self.frames(from: first, count: count) {
                guard let m = snapshot.frames[p], m.lastSeq != 0, m.lastSeq <= snapshot.sequence, log[m.lastSeq] == nil else { continue }
                if let r = try OpLogDecoder(info: s.info, memory: s.memory).last(1, upTo: m.lastSeq).first { log[m.lastSeq] = r }
            }
            return (snapshot, names, log)
        }
        let reports = (Self.frames(from: first, count: count)).map { FrameReport(snapshot, pfn: $0) }
        if image.json {
            return print(try JSONOutput.string(FrameJSON(snapshot, reports, flagNames: names, log: log, address: address, resolved: resolved)))
        }
        var out: [String] = []
        if let address, let (space, physical) = resolved {
            out.append("\(address): " + KmemText.space(space, physical: physical))
        }
        for p in Self.frames(from: first, count: count) {
            guard let report = FrameReport(snapshot, pfn: p) else {
                out.append("pfn 0x\(String(p, radix: 16)): past the frame table (\(snapshot.frames.count) frames)")
                continue
            }
            out.append(report.text(flagNames: names, lastOperation: log[report.record.lastSeq]))
        }
        print(out.joined(separator: "\n"))
    }
}
