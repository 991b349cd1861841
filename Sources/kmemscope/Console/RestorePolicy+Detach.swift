import GDBRemote
import KernelSession

extension RestorePolicy {
    /// What the `attach` consoles (bundled and Linux) say at `quit`: whether the guest runs on
    /// (`runs`, what this policy decided for how it was found) and the policy that decided it.
    func detachSentence(runs: Bool) -> String {
        let how = self == .asFound ? "as it was found" : self == .resume ? "--resume" : "--leave-stopped"
        return runs ? "detached: the guest runs on (\(how))" : "detached: the guest is left stopped (\(how))"
    }

    /// The consoles' detach: a running guest is stopped first (QEMU stops a running guest at
    /// any byte it receives, so the policy decides on a stopped one), then `restore` puts it
    /// back as this policy says for how it was `found`. Returns ``detachSentence(runs:)``.
    func detach(_ target: RemoteTarget, found: RunState, restore: () -> Void) -> String {
        if target.isRunning { _ = try? target.interrupt() }
        let runs = resumes(found: found)
        restore()
        return detachSentence(runs: runs)
    }
}
