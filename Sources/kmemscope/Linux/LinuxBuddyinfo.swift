import AllocatorText
import ArgumentParser
import LinuxKernel

/// `kmemscope buddyinfo --kernel linux`: a stock Linux guest's /proc/buddyinfo (and, with
/// `--pagetypeinfo`, the per-migratetype free table), decoded from guest memory through the
/// gdbstub, with types from the kernel's own BTF and addresses from a symbol map. The guest is
/// left as it was found.
struct LinuxBuddyinfo {
    var profile: KernelProfileOptions
    var pagetypeinfo: Bool
    var timing: Bool
    var json: Bool
    var stub: TargetOptions
    var settling: SettleOptions? = nil

    func run(in context: CommandContext) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let (text, issues, timingLine) = try LinuxAttach.run(profile, stub, in: context, settling: settling) { linux -> (String, [String], String) in
            let typed = clock.now
            let states = try LinuxAttach.allNodes(linux, in: context).map { try linux.decodeBuddy(node: $0) }
            let decoded = clock.now
            let view = linux.allocatorView(states)
            var text = ProcText.buddyinfo(view)
            if pagetypeinfo { text += "\n" + ProcText.pagetypeinfo(view) }
            text = text.droppingFinalNewline
            if json { text = try JSONOutput.string(LinuxFreeCountsJSON(view, text: text, byMigratetype: pagetypeinfo)) }
            let from = stub.vmcore.map { "the vmcore \($0)" } ?? stub.snapshot.map { "the snapshot \($0)" } ?? "\(context.linuxRead.source)"
            let line = "timing: source \(from), attach, BTF and settle \(TimingLine.milliseconds(typed - start)) ms (\(linux.btf.typeCount) types, \(context.linuxRead.settleStops) stop\(context.linuxRead.settleStops == 1 ? "" : "s")), "
                + "decode \(TimingLine.milliseconds(decoded - typed)) ms"
            return (text, view.listBreaks.map(\.text), line)
        }
        print(text)
        for issue in issues { StandardError.write("kmemscope: warning: \(issue)") }
        if timing { StandardError.write(timingLine) }
    }
}
