import BundledChecks
import BundledState
import Testing

/// `state-fields` on the zone locks (kernel/README.md "Zone locks"): a lock held in a guest read
/// between operations is a violation naming its zone; inside an operation it is expected.
@Suite("Zone locks in state-fields")
struct ZoneLockCheckTests {
    @Test func aHeldLockBetweenOperationsIsAViolation() {
        var s = VerifierTests.snapshot()
        var fields = StateFields()
        fields.zoneLocks = [.init(next: 7, owner: 7)]
        s.stateFields = fields
        s.busy = 0
        #expect(Verifier(s).run().passed, "\(Verifier(s).run().text)")
        s.stateFields?.zoneLocks = [.init(next: 8, owner: 7)]
        let r = Verifier(s).run()
        #expect(r.failedChecks == [.stateFields])
        #expect(r.violations.first?.found == "next 8, owner 7")
        s.busy = 1
        #expect(Verifier(s).run().passed, "inside an operation a lock is held: \(Verifier(s).run().text)")
    }
}
