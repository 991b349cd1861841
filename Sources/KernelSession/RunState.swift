/// Whether the guest was running when kmemscope attached.
///
/// Connecting to QEMU's gdbstub stops the guest, and from then on QEMU's monitor says
/// `VM status: paused` whatever the guest did before (measured on QEMU 7.2 through `qRcmd,info
/// status`, right after connecting to a running guest, a `-S` guest and a guest paused with
/// the monitor's `stop`). What does tell them apart is the stop reply QEMU sends unasked when
/// the connection halts a *running* guest (`T02thread:01;`): a guest started with `-S`, paused
/// from the monitor, or left stopped by an earlier debugger gets none.
public enum RunState: String, Sendable, Equatable {
    /// The guest was executing: it is resumed on the way out (unless told otherwise).
    case running
    /// The guest was already stopped: it is left stopped on the way out.
    case stopped
}
