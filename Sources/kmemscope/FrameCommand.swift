import ArgumentParser
import AllocatorModel
import KernelLayouts
import LinuxKernel

/// `kmemscope frame PFN [COUNT]`: decoded FrameMeta of one or a few frames, with the block it
/// belongs to and the operation that last changed it (page_owner in miniature).
struct FrameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frame",
        abstract: "Show frames' metadata: flags by name, the block, zone and segment, and the operation that last changed each.")

    @Argument(help: "The first frame: a PFN (decimal or 0x hex).")
    var pfn: String

    @Argument(help: "How many frames (1…64).")
    var count: Int = 1

    @OptionGroup var profile: KernelProfileOptions
    @OptionGroup var image: ImageOptions
    @OptionGroup var stub: TargetOptions
    @OptionGroup var settling: SettleOptions

    func validate() throws {
        guard parsedPFN != nil else { throw ValidationError("\(pfn) is not a PFN (decimal, or hex with 0x)") }
        guard (1...64).contains(count) else { throw ValidationError("COUNT must be 1…64") }
    }

    var parsedPFN: UInt64? { pfn.hasPrefix("0x") ? UInt64(pfn.dropFirst(2), radix: 16) : UInt64(pfn) }

    func run() throws {
        let first = parsedPFN ?? 0
        if profile.isLinux {
            let text = try LinuxAttach.run(profile, stub) { linux -> String in
                let state = try linux.decodeBuddy()
                return try (first..<(first &+ UInt64(count))).map { p in
                    LinuxViews.frame(linux, try linux.page(p, vmemmapBase: state.vmemmapBase), state)
                }.joined(separator: "\n")
            }
            return print(text)
        }
        let session = try stub.attach(image)
        let (snapshot, names, log) = try session.settledRead(settling) { s -> (KernelSnapshot, [(String, UInt32)], [UInt64: OpLogRecord]) in
            let snapshot = try SnapshotDecoder(info: s.info, memory: s.memory).decode()
            let names = s.info.entries.filter { $0.key.hasPrefix("FLAG(") }.compactMap { e -> (String, UInt32)? in
                guard let v = try? s.info.number(e.key) else { return nil }
                return (String(e.key.dropFirst(5).dropLast()), UInt32(truncatingIfNeeded: v))
            }
            var log: [UInt64: OpLogRecord] = [:]
            for p in first..<(first &+ UInt64(count)) {
                guard let m = snapshot.frames[p], m.lastSeq != 0, m.lastSeq <= snapshot.sequence, log[m.lastSeq] == nil else { continue }
                if let r = try OpLogDecoder(info: s.info, memory: s.memory).last(1, upTo: m.lastSeq).first { log[m.lastSeq] = r }
            }
            return (snapshot, names, log)
        }
        var out: [String] = []
        for p in first..<(first &+ UInt64(count)) {
            guard let report = FrameReport(snapshot, pfn: p) else {
                out.append("pfn 0x\(String(p, radix: 16)): past the frame table (\(snapshot.frames.count) frames)")
                continue
            }
            out.append(report.text(flagNames: names, lastOperation: log[report.record.lastSeq]))
        }
        print(out.joined(separator: "\n"))
    }
}
