import KernelLayouts
import KernelSession

/// Whether two states are moments of one run, judged by the boots they come from
/// (kernel/README.md, "Boot identity"): `diff A B` and `verify --replay --from A` compare
/// only those, since across two different runs every difference would look like corruption.
enum BootCheck {
    /// Throws (exit 2, one line naming both) when `a` and `b` are boots of different command
    /// lines; returns a note for standard error when they are two boots of the same command
    /// line, or when a side cannot be checked; nil for the same boot.
    static func requireOneRun(_ a: BootIdentity?, _ aName: String, _ b: BootIdentity?, _ bName: String) throws(SessionError) -> String? {
        switch BootIdentity.relation(a, b) {
        case .sameBoot:
            return nil
        case .sameRun:
            return "note: \(aName) and \(bName) come from two boots (0x\(String(a!.id, radix: 16)) and 0x\(String(b!.id, radix: 16))) "
                + "of the same command line (0x\(String(a!.commandLineHash, radix: 16)), seed \(a!.seed)): the workload is deterministic, so they are compared as one run"
        case .differentRuns:
            throw .other("\(aName) is \(a!.description) and \(bName) is \(b!.description): two boots of different command lines, "
                + "not two moments of one run, so nothing they differ in can be told from corruption")
        case .unknown:
            let missing = [(a, aName), (b, bName)].filter { $0.0 == nil }.map(\.1).joined(separator: " and ")
            return "note: the boot cannot be checked: \(missing) carries no boot identity (a kernel older than kmem_info's BOOT_ID); compared as one run"
        }
    }
}
