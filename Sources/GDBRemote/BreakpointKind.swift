/// The five kinds of `Z`/`z` point: the digit after `Z` in the packet.
public enum BreakpointKind: Int, Sendable, CaseIterable {
    /// `Z0`: a software breakpoint (QEMU implements it without touching guest memory).
    case software = 0
    /// `Z1`: a hardware breakpoint.
    case hardware = 1
    /// `Z2`: a write watchpoint.
    case writeWatchpoint = 2
    /// `Z3`: a read watchpoint.
    case readWatchpoint = 3
    /// `Z4`: an access (read or write) watchpoint.
    case accessWatchpoint = 4
}
