/// What a session does with the guest when it ends (on success, error or signal alike).
public enum RestorePolicy: Sendable, Equatable {
    /// Leave it as it was found: resume a guest that was running, leave a stopped one stopped.
    case asFound
    /// Resume it, whatever it was doing before (`--resume`).
    case resume
    /// Leave it stopped, whatever it was doing before (`--leave-stopped`).
    case leaveStopped

    /// Whether the guest should run after a session that found it `found`.
    public func resumes(found: RunState) -> Bool {
        switch self {
        case .asFound: return found == .running
        case .resume: return true
        case .leaveStopped: return false
        }
    }
}
