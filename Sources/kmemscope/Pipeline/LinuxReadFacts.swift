import KernelLayouts
import KernelSession

/// What one command's Linux read found beside the state (kept in its ``CommandContext``, so
/// that the command reads them after the read, and no later command sees them): where guest
/// memory was read from, how many stops the settle took, which NUMA nodes the verdict covered,
/// and the recorder of every byte read (`snapshot --kernel linux`).
final class LinuxReadFacts {
    /// Where guest memory was read from (for timing lines and a snapshot's header).
    var source: MemorySource = .stub
    /// How many stops the settle took (for timing lines and the console's `stop`).
    var settleStops = 0
    /// What was covered of the guest's NUMA nodes (issue 22), set by ``LinuxAttach/allNodes(_:in:)``.
    var coverage = Coverage()
    /// Every byte the body read, when the read was recording.
    var recorder: RecordingMemory?
}
