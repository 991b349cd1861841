import Foundation
import Testing

/// slabinfo compared exactly (issue 18: num_objs equal to the guest's own /proc/slabinfo): on a
/// guest booted with `kmemscope.slabticks`, whose /init prints /proc/slabinfo every second with
/// nothing forked, kmemscope's read is bracketed by the last print that ended before kmemscope
/// started and the first that began after it returned (offsets in the serial log, which QEMU
/// writes as the guest prints). For every cache, name, objsize, objperslab and pagesperslab are
/// equal to both; num_objs and num_slabs equal both where the two prints agree, and lie between
/// them where they differ; active_objs may move (the objects printing costs), within two slabs.
enum SlabinfoBracket {
    /// The serial log's `slabinfo-tick` sections: where each begins and ends (byte offsets) and its text.
    static func ticks(_ serial: [UInt8]) -> [(begin: Int, end: Int, text: String)] {
        let text = String(decoding: serial, as: UTF8.self)
        var out: [(Int, Int, String)] = []
        var from = text.startIndex
        while let begin = text.range(of: "@@kmemscope slabinfo-tick begin", range: from..<text.endIndex),
              let end = text.range(of: "@@kmemscope slabinfo-tick end", range: begin.upperBound..<text.endIndex) {
            let b = text.utf8.distance(from: text.startIndex, to: begin.lowerBound)
            let e = text.utf8.distance(from: text.startIndex, to: end.upperBound)
            out.append((b, e, String(text[begin.upperBound..<end.lowerBound]).replacingOccurrences(of: "\r\n", with: "\n")))
            from = end.upperBound
        }
        return out
    }

    static func serialBytes(_ guest: LinuxGuest) -> [UInt8] {
        (try? Data(contentsOf: URL(fileURLWithPath: guest.serialPath))).map { [UInt8]($0) } ?? []
    }

    /// Waits (at most `timeout` s of host time; a bound, not an assertion) for a tick that
    /// begins at or after byte `offset` and ends.
    static func firstTick(after offset: Int, _ guest: LinuxGuest, timeout: Double = 60) -> (begin: Int, end: Int, text: String)? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let tick = ticks(serialBytes(guest)).first(where: { $0.begin >= offset }) { return tick }
            usleep(200_000)
        } while Date() < deadline
        return nil
    }

    /// Runs `kmemscope slabinfo` on the running ticking guest and compares it as above; returns
    /// (rows, rows whose num_objs equals both prints, rows where the prints differed).
    @discardableResult
    static func compare(_ guest: LinuxGuest, _ linux: [String]) throws -> (rows: Int, equal: Int, moved: Int) {
        // one whole tick printed first (the loop runs)
        try #require(firstTick(after: 0, guest) != nil, "the guest prints slabinfo-tick sections (kmemscope.slabticks)")
        let s0 = serialBytes(guest).count
        let (status, ours) = LinuxVerifyTests.kmemscope(["slabinfo"] + linux)
        let s1 = serialBytes(guest).count
        #expect(status == 0, "\(ours)")
        let before = try #require(ticks(serialBytes(guest)).last { $0.end <= s0 }, "a slabinfo print that ended before kmemscope started")
        let after = try #require(firstTick(after: s1, guest), "a slabinfo print that began after kmemscope returned")
        let a = SlabinfoRows(ours), b = SlabinfoRows(before.text), c = SlabinfoRows(after.text)
        #expect(a.rows.map(\.name) == b.rows.map(\.name) && b.rows.map(\.name) == c.rows.map(\.name), "the same caches in the same order")
        #expect(!a.rows.isEmpty)
        var equal = 0, moved = 0
        for (((name, x), (_, y)), (_, z)) in zip(zip(a.rows, b.rows), c.rows) {
            #expect(x.size == y.size && x.perSlab == y.perSlab && x.pages == y.pages && y.size == z.size, "\(name): \(x) vs /proc \(y)")
            let objects = min(y.objects, z.objects)...max(y.objects, z.objects)
            let slabs = min(y.slabs, z.slabs)...max(y.slabs, z.slabs)
            #expect(objects.contains(x.objects) && slabs.contains(x.slabs),
                    "\(name): num_objs \(x.objects), num_slabs \(x.slabs); /proc before \(y.objects)/\(y.slabs), after \(z.objects)/\(z.slabs)")
            let slack = 2 * max(1, y.perSlab)
            #expect(x.active >= min(y.active, z.active) - slack && x.active <= max(y.active, z.active) + slack,
                    "\(name): active_objs \(x.active); /proc before \(y.active), after \(z.active)")
            if y.objects != z.objects { moved += 1 } else if x.objects == y.objects { equal += 1 }
        }
        print("slabinfo bracketed: \(a.rows.count) caches; num_objs equal to both /proc prints in \(equal), between them in \(moved) where the prints differed")
        return (a.rows.count, equal, moved)
    }
}
