import BundledChecks
import BundledState
import ArgumentParser
import LinuxKernel

/// What a verdict covered and what it did not (issue 22): a check that read a subset says so
/// in its summary, in `--json` (`covered`, `skipped` with reasons), and — when what was not
/// covered is something the user asked for — in its exit status (2, unless `--allow-partial`).
/// docs/checks.md lists every case.
struct Coverage: Encodable {
    /// Something the verdict did not cover, and why.
    struct Skip: Encodable, Equatable {
        /// What was not covered (`free-page-poison: the free pages' contents`, `node 1`).
        var what: String
        /// Why, and what to do about it.
        var reason: String
        /// Whether the command, as the user ran it, was asked to cover it: only such a skip
        /// makes the verdict partial (exit 2 without `--allow-partial`).
        var asked: Bool
    }

    /// What the verdict covered, one phrase each.
    var covered: [String] = []
    var skipped: [Skip] = []

    /// Whether something asked for was not covered.
    var isPartial: Bool { skipped.contains { $0.asked } }

    mutating func skip(_ what: String, _ reason: String, asked: Bool = true) {
        skipped.append(Skip(what: what, reason: reason, asked: asked))
    }

    /// The lines for the text verdict: `covered: …` and one `not covered: …` per skip.
    var text: [String] {
        (covered.isEmpty ? [] : ["covered: " + covered.joined(separator: "; ")])
            + skipped.map { "not covered: \($0.what) — \($0.reason)" }
    }

    /// After the verdict is printed: exit 2 with one line on standard error when the verdict is
    /// partial and the user did not accept that. Violations (exit 1) are reported by the caller
    /// first: a violation found in what was read is a verdict, whatever was not read.
    func enforce(allowPartial: Bool) throws {
        guard isPartial, !allowPartial else { return }
        let missing = skipped.filter(\.asked).map { "\($0.what) (\($0.reason))" }.joined(separator: "; ")
        StandardError.write("kmemscope: partial verdict, not covered: \(missing); pass --allow-partial to accept a partial check")
        throw ExitCode(2)
    }

    /// What the bundled kernel's checks read: every frame of every segment, every cache.
    static func bundledChecks(_ snapshot: KernelSnapshot, _ report: VerifyReport) -> Coverage {
        var c = Coverage()
        let zones = snapshot.zones.filter { $0.segmentCount > 0 }.map(\.name)
        c.covered.append("\(report.framesChecked) frames in \(snapshot.segments.count) segments of zones \(zones.joined(separator: ", ")): "
                         + "tiling, free lists, buddies, bitmaps, counters, per-CPU lists")
        c.covered.append("\(snapshot.heap?.caches.count ?? 0) slab caches")
        return c
    }

    /// What `LinuxVerifier` read of a guest, from the attach's coverage (`base`: the nodes):
    /// checks that could not run and free lists cut at their bound are skips.
    static func linuxChecks(_ report: LinuxVerifier.Report, base: Coverage) -> Coverage {
        var c = base
        // a check that could not run (per-CPU lists BTF does not describe) covers less
        for note in report.notes { c.skip(String(note.prefix { $0 != ":" }), String(note.drop { $0 != ":" }.dropFirst(2))) }
        for list in report.cutShort {
            c.skip("free list \(list.prefix { $0 != ":" }) beyond its first blocks", String(list.drop { $0 != ":" }.dropFirst(2)) + " (--list-limit)")
        }
        return c
    }

    /// The page section of a report: the lines `verify` prints under its verdict.
    var section: (String, String) { ("What the verdict covered", text.joined(separator: "\n")) }
}
