import BundledChecks
import BundledState
import GDBRemote
import BundledKernel
import KernelLayouts

/// Writes each corruption into a stopped guest through the stub, decodes and verifies, puts
/// the original bytes back, and records which checks fired where.
///
/// The guest must be stopped between operations (and stays stopped): every write is undone
/// before the next case, and a final verify must pass again.
public struct CorruptionRunner {
    public let target: RemoteTarget
    public let info: KernelInfo
    public let memory: any GuestMemory

    public init(target: RemoteTarget, info: KernelInfo, memory: any GuestMemory) {
        self.target = target
        self.info = info
        self.memory = memory
    }

    /// A clean snapshot and its report.
    public func verify() throws -> (KernelSnapshot, VerifyReport) {
        let s = try SnapshotDecoder(info: info, memory: memory).decode()
        return (s, Verifier(s).run())
    }

    /// Runs every case on a clean guest; each is undone before the next.
    public func run(_ cases: [FieldCorruption]) throws -> [CorruptionResult] {
        let (clean, report) = try verify()
        guard report.passed else { throw NotClean(report: report) }
        let context = CorruptionContext(snapshot: clean, info: info, memory: memory)
        var results: [CorruptionResult] = []
        for c in cases { results.append(try run(c, in: context)) }
        return results
    }

    /// The guest was already corrupted before any write.
    public struct NotClean: Error, CustomStringConvertible {
        public let report: VerifyReport
        public var description: String { "the guest is not clean before any corruption:\n\(report.text)" }
    }

    /// Writes one corruption, verifies, and restores the field.
    public func run(_ c: FieldCorruption, in context: CorruptionContext) throws -> CorruptionResult {
        guard let t = try c.target(context) else { return CorruptionResult(corruption: c, outcome: .noTarget) }
        let original = try memory.read(at: t.address, count: t.width)
        let old = original.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        let new = t.wrong(old)
        let bytes = (0..<t.width).map { UInt8(truncatingIfNeeded: new >> (8 * UInt64($0))) }
        try target.writeMemory(at: t.address, bytes: bytes)
        defer { try? target.writeMemory(at: t.address, bytes: original) }
        let outcome: CorruptionResult.Outcome
        do {
            let s = try SnapshotDecoder(info: info, memory: memory).decode()
            outcome = .verified(Verifier(s).run())
        } catch {
            outcome = .refused("\(error)")
        }
        return CorruptionResult(corruption: c, outcome: outcome, address: t.address, old: old, new: new, location: t.location)
    }
}

/// What one corruption produced.
public struct CorruptionResult: Sendable {
    public enum Outcome: Sendable {
        /// The guest had nothing to corrupt this way (no slab page, no cached frame…).
        case noTarget
        /// The decoder refused the state (an implausible count or size), naming it.
        case refused(String)
        /// The verifier's report.
        case verified(VerifyReport)
    }

    public let corruption: FieldCorruption
    public let outcome: Outcome
    public var address: UInt64 = 0
    public var old: UInt64 = 0
    public var new: UInt64 = 0
    public var location: CorruptionLocation = .anywhere

    /// Checks that fired, in `Check` order.
    public var fired: [Check] {
        if case .verified(let r) = outcome { return r.failedChecks }
        return []
    }

    /// The first violation of an expected check reported at the target's location.
    public var hit: Violation? {
        guard case .verified(let r) = outcome else { return nil }
        return r.violations.first { corruption.expected.contains($0.check) && location.matches($0) }
    }

    /// Noticed as the catalogue says: an expected check at the right place (or, for a value
    /// the decoder cannot accept, a refusal that names it).
    public var noticed: Bool {
        if case .refused = outcome { return true }
        return hit != nil
    }

    /// Whether the result is what the catalogue promises: noticed where a check is expected,
    /// or a documented gap.
    public var asPromised: Bool {
        corruption.expected.isEmpty ? corruption.uncheckable != nil : noticed
    }

    /// One line: `Structure.field: check at location` or why not.
    public var line: String {
        switch outcome {
        case .noTarget: return "\(corruption.name): no target in this guest"
        case .refused(let why): return "\(corruption.name): refused by the decoder: \(why)"
        case .verified(let r):
            if let h = hit { return "\(corruption.name): \(h.text)" }
            if r.passed { return "\(corruption.name): unnoticed" + (corruption.uncheckable.map { " (documented: \($0))" } ?? "") }
            return "\(corruption.name): \(r.failedChecks.map(\.rawValue).joined(separator: ", ")) but not "
                + "\(corruption.expected.map(\.rawValue).joined(separator: "/")) at \(location): \(r.violations.first!.text)"
        }
    }
}
