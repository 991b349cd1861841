import Testing
@testable import GDBRemote

/// The typed `vCont` request: how it is spelled, parsed back, and what it refuses to send.
@Suite struct VContRequestTests {
    @Test func spellsAnActionPerThread() throws {
        #expect(try VContRequest.continue(threads: ["p01.02", "p01.04"]).packet == "vCont;c:p01.02;c:p01.04")
        #expect(try VContRequest.step(thread: "3").packet == "vCont;s:3")
        let mixed = try VContRequest([.init(.stepWithSignal(5), thread: "p1.1"), .init(.continueWithSignal(0x0b), thread: "2"),
                                      .init(.continue, thread: nil)])
        #expect(mixed.packet == "vCont;S05:p1.1;C0b:2;c")
        #expect(mixed.letters == ["S", "C", "c"])
        #expect("\(mixed)" == mixed.packet)
    }

    @Test(arguments: ["vCont;c", "vCont;s:p1.1;c", "vCont;c:p01.02;c:p01.04", "vCont;C05:-1", "vCont;S02:p-1.-1",
                      "vCont;c:0", "vCont;c:p1.ffffffffffffffff"])
    func parsesWhatItSpells(_ packet: String) throws {
        let request = try VContRequest(parsing: packet)
        #expect(request.packet == packet)
        #expect(try VContRequest(request.actions) == request)
    }

    @Test func parsesActionsAndThreads() throws {
        let r = try VContRequest(parsing: "vCont;s:p1.2;C0a:3;c")
        #expect(r.actions == [.init(.step, thread: "p1.2"), .init(.continueWithSignal(10), thread: "3"), .init(.continue, thread: nil)])
    }

    @Test(arguments: [
        ("vCont?", "not a vCont packet"),
        ("vCont", "not a vCont packet"),
        ("vCont;", "an empty action"),
        ("vCont;c;", "an empty action"),
        ("vCont;;c", "an empty action"),
        ("vCont;t:1", "not an action this client sends"),
        ("vCont;r1000,2000:1", "not an action this client sends"),
        ("vCont;cc:1", "not an action this client sends"),
        ("vCont;C:1", "a signal of two hex digits"),
        ("vCont;C5:1", "a signal of two hex digits"),
        ("vCont;Cx5:1", "a signal of two hex digits"),
        ("vCont;S123:1", "a signal of two hex digits"),
        ("vCont;c:", "is not a thread-id"),
        ("vCont;c:p1", "is not a thread-id"),
        ("vCont;c:p1.", "is not a thread-id"),
        ("vCont;c:1g", "is not a thread-id"),
        ("vCont;c:-2", "is not a thread-id"),
        ("vCont;c:p1.2.3", "is not a thread-id"),
        ("vCont;c:11111111111111111", "is not a thread-id"),
        ("vCont;c:1;s:1", "named twice"),
        ("vCont;c;c:1", "must come last"),
        ("vCont;c;s", "must come last"),
    ])
    func refusesMalformedPackets(_ packet: String, _ reason: String) {
        do {
            _ = try VContRequest(parsing: packet)
            Issue.record("accepted \(packet)")
        } catch {
            guard case .invalidRequest(let request, let why) = error else { Issue.record("\(error)"); return }
            #expect(request == packet, "\(request)")
            #expect(why.contains(reason), "\(packet): \(why)")
            #expect(error.description.contains("was not sent"))
        }
    }

    @Test func refusesAnEmptyRequestAndRepeatedThreads() {
        #expect(throws: GDBRemoteError.invalidRequest(request: "vCont", reason: "no action")) { try VContRequest([]) }
        #expect(throws: GDBRemoteError.self) { try VContRequest.continue(threads: ["p1.2", "p1.2"]) }
        #expect(throws: GDBRemoteError.self) { try VContRequest.continue(threads: ["cpu1"]) }
    }

    @Test func threadIDs() {
        for ok in ["1", "0", "-1", "ff", "p1.1", "p01.02", "p-1.-1", "pA.b"] { #expect(VContRequest.isThreadID(ok), "\(ok)") }
        for bad in ["", "p", "p.1", "p1.", "1.2", "-", "--1", "0x1", "p1.-2", " 1"] { #expect(!VContRequest.isThreadID(bad), "\(bad)") }
    }
}
