import AllocatorModel
import BundledChecks
import BundledState
import ArgumentParser
import KernelLayouts

/// `verify`'s verdict on the bundled kernel (the pipeline's analyse stage): the checks'
/// report, the replay when asked, what the run covered, and whether it passed.
struct VerifyVerdict {
    var snapshot: KernelSnapshot
    var report: VerifyReport
    var verification: Replay.Verification?
    var coverage: Coverage
    /// The checks passed and, with --replay, so did the replay (a replay the ring cannot feed
    /// is no verdict, not a violation).
    var passed: Bool
}

extension VerifyCommand {
    /// Analyse: the replay (with --replay) and the coverage, on the state read and its report.
    func analyse(_ held: VerifyHeld, _ report: VerifyReport) throws -> VerifyVerdict {
        let verification = try replay ? replayed(held.snapshot, held.log, boot: held.boot) : nil
        // a replay the ring cannot feed (entries overwritten) is no verdict, not a violation
        var unfed = false
        if let verification, case .missing = verification.replay.stop { unfed = true }
        let coverage = coverage(held.snapshot, report, verification: verification, unfed: unfed,
                                freePagesRead: held.freePagesRead, poisonNotHeld: held.poisonNotHeld)
        return VerifyVerdict(snapshot: held.snapshot, report: report, verification: verification, coverage: coverage,
                             passed: report.passed && (unfed || (verification?.passed ?? true)))
    }

    /// Render: the JSON document, or the text (the summary, each violation, the coverage, the replay).
    func render(_ verdict: VerifyVerdict) throws -> String {
        if image.json {
            var document = VerifyJSON(verdict.snapshot, verdict.report, replay: verdict.verification)
            document.covered = verdict.coverage.covered
            document.skipped = verdict.coverage.skipped
            return try JSONOutput.string(document)
        }
        var lines = ["sequence \(verdict.snapshot.sequence)\n" + VerifySummary.text(verdict.snapshot, verdict.report) + "\n" + verdict.report.text]
        lines += verdict.coverage.text
        if let verification = verdict.verification { lines.append(verification.text) }
        return lines.joined(separator: "\n")
    }

    /// The exit status: 1 when it did not pass, 2 (with a line) for a partial verdict not
    /// accepted with --allow-partial, else 0.
    func exitStatus(_ verdict: VerifyVerdict) throws {
        if !verdict.passed { throw ExitCode(1) }
        try verdict.coverage.enforce(allowPartial: profile.allowPartial)
    }

    /// What this run of verify covered, and what it did not (docs/checks.md, "Partial verdicts").
    func coverage(_ snapshot: KernelSnapshot, _ report: VerifyReport, verification: Replay.Verification?, unfed: Bool,
                  freePagesRead: Int, poisonNotHeld: String?) -> Coverage {
        var c = Coverage.bundledChecks(snapshot, report)
        if snapshot.poisoning == true {
            if let poisonNotHeld {
                c.skip("free-page-poison: the free pages' contents", poisonNotHeld)
            } else if snapshot.poisonDamage == nil {
                c.skip("free-page-poison: the free pages' contents", "not read (pass --free-page-poison)", asked: false)
            } else if (snapshot.poisonDamage?.count ?? 0) >= Self.damageLimit {
                c.covered.append("free-page-poison: \(freePagesRead) free pages read")
                c.skip("free-page-poison: the free pages after the \(Self.damageLimit)th damaged one",
                       "the scan stops at \(Self.damageLimit) damaged pages", asked: false)
            } else {
                c.covered.append("free-page-poison: \(freePagesRead) free pages read")
            }
        } else if freePagePoison {
            c.skip("free-page-poison: the free pages' contents", "page poisoning is off in the guest (boot it with poison=1): free pages hold no pattern")
        }
        if let verification {
            if unfed {
                c.skip("replay from \(from == nil ? "the boot" : "the snapshot") (no replay verdict; the checks passed)",
                       "the log ring no longer holds the entries it needs: \(verification.replay.operations) operations replayed")
            } else {
                c.covered.append("replay of \(verification.replay.operations) operations")
            }
        }
        return c
    }
}
