import KernelSession

extension RestorePolicy {
    /// What the `attach` consoles (bundled and Linux) say at `quit`: whether the guest runs on
    /// (`runs`, what this policy decided for how it was found) and the policy that decided it.
    func detachSentence(runs: Bool) -> String {
        let how = self == .asFound ? "as it was found" : self == .resume ? "--resume" : "--leave-stopped"
        return runs ? "detached: the guest runs on (\(how))" : "detached: the guest is left stopped (\(how))"
    }
}
