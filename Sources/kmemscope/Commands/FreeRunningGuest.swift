import BundledKernel
import KernelLayouts
import KernelSession

/// A guest whose CPUs run the workload free (`smp=free`, kernel/README.md "Workload"): nothing
/// orders its CPUs, so no two boots (nor two stops of one) repeat. The commands that need a
/// repeatable run (bisect, watch) refuse it with one line and exit 2.
enum FreeRunningGuest {
    /// Whether a bisect command line asks for the free-running mode.
    static func requested(in append: String) -> Bool {
        append.split(separator: " ").contains("smp=free")
    }

    /// The refusal, one line, for `command`.
    static func refusal(_ command: String) -> String {
        "\(command) needs a repeatable run, and this guest's CPUs run free (smp=free: several CPUs inside the allocator at once, in an order no boot repeats); boot it without smp=free (the CPUs then take turns)"
    }

    /// Throws the refusal when the guest's turn word says its CPUs run free (`TURNS` +
    /// `TURNS_MODE` = 1). A kernel that publishes neither key takes turns (or has one CPU).
    static func refuse(_ session: GuestSession, command: String) throws {
        if try CPUActivityDecoder(info: session.info, memory: session.memory).turns()?.free == true {
            throw SessionError.other(refusal(command))
        }
    }
}
