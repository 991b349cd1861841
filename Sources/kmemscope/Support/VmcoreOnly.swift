/// `--vmcore FILE` is one stopped moment of a Linux guest: the views and verify read it
/// (info, zones, buddyinfo, pagetypeinfo, zoneinfo, slabinfo, frame, freelist, kmem, vtop,
/// verify, report, snapshot; diff compares two). Commands that run or follow a guest (watch, the
/// attach console, bisect, boot, log, dump, proxy, gdb-script) refuse it in one line, exit 2 — before
/// parsing, so that no other option answers first with the whole usage.
enum VmcoreOnly {
    /// The commands that read a vmcore.
    static let readers: Set<String> = ["info", "zones", "buddyinfo", "pagetypeinfo", "zoneinfo", "slabinfo", "frame", "freelist",
                                       "kmem", "vtop", "verify", "report", "snapshot", "diff"]

    /// The refusal for `arguments` (without the program name), nil when it is not one.
    static func refusal(_ arguments: [String]) -> String? {
        guard let command = arguments.first, !command.hasPrefix("-"),
              arguments.contains(where: { $0 == "--vmcore" || $0.hasPrefix("--vmcore=") }) else { return nil }
        if readers.contains(command) { return nil }
        return "kmemscope: \(command) runs or follows a live guest; a vmcore (--vmcore) is one stopped moment: read it with "
            + readers.sorted().joined(separator: ", ")
    }
}
