import AllocatorText
import ArgumentParser
import LinuxKernel

/// `kmemscope buddyinfo --kernel linux`'s document: a stock Linux guest's /proc/buddyinfo
/// (and, with `--pagetypeinfo`, the per-migratetype free table) from the view ``ViewSource``
/// read, a warning per broken list, and with `--timing` how long the attach and decode took.
struct LinuxBuddyinfo {
    var pagetypeinfo: Bool
    var timing: Bool
    var json: Bool
    var stub: TargetOptions

    func render(_ read: ViewRead, in context: CommandContext) throws {
        let view = read.view
        var text = ProcText.buddyinfo(view)
        if pagetypeinfo { text += "\n" + ProcText.pagetypeinfo(view) }
        text = text.droppingFinalNewline
        if json { text = try JSONOutput.string(LinuxFreeCountsJSON(view, text: text, byMigratetype: pagetypeinfo)) }
        print(text)
        for issue in view.listBreaks.map(\.text) { StandardError.write("kmemscope: warning: \(issue)") }
        if timing, let linux = read.linux {
            let from = stub.vmcore.map { "the vmcore \($0)" } ?? stub.snapshot.map { "the snapshot \($0)" } ?? "\(context.linuxRead.source)"
            let stops = context.linuxRead.settleStops
            StandardError.write("timing: source \(from), attach, BTF and settle \(TimingLine.milliseconds(read.attachTime)) ms (\(linux.btf.typeCount) types, \(stops) stop\(stops == 1 ? "" : "s")), "
                                + "decode \(TimingLine.milliseconds(read.decodeTime)) ms")
        }
    }
}
