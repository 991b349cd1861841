/// The result of `Verifier.run()`: how many violations each check found, the first few of
/// each, and how much was looked at.
public struct VerifyReport: Sendable, Codable {
    /// Violations per check (exact counts).
    public private(set) var counts: [Check: Int] = [:]
    /// The first `keepPerCheck` violations of each check, in the order found.
    public private(set) var violations: [Violation] = []
    /// Frames walked.
    public var framesChecked: UInt64 = 0
    let keepPerCheck: Int

    init(keepPerCheck: Int) { self.keepPerCheck = keepPerCheck }

    mutating func add(_ v: Violation) {
        let n = counts[v.check, default: 0]
        counts[v.check] = n + 1
        if n < keepPerCheck { violations.append(v) }
    }

    /// Total violations.
    public var total: Int { counts.values.reduce(0, +) }
    /// Whether every check passed.
    public var passed: Bool { total == 0 }
    /// Checks that found something, in `Check` order.
    public var failedChecks: [Check] { Check.allCases.filter { counts[$0, default: 0] > 0 } }

    /// The text report.
    public var text: String {
        var lines = ["verify: \(Check.allCases.count) checks over \(framesChecked) frames: "
                     + (passed ? "all passed" : "\(total) violations in \(failedChecks.map(\.rawValue).joined(separator: ", "))")]
        lines += violations.map(\.text)
        for c in failedChecks where counts[c]! > keepPerCheck { lines.append("(\(counts[c]! - keepPerCheck) more \(c.rawValue) violations)") }
        return lines.joined(separator: "\n")
    }
}
