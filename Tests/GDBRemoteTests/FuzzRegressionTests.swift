import GDBRemote
import Testing

/// Stub replies that would have trapped the parsers (found reading them for scripts/fuzz.sh's
/// `packet` and `targetxml` targets).
@Suite("Parser fuzz regressions")
struct ParserFuzzRegressionTests {
    @Test func aPacketSizePastIntIsNotSaid() {
        let features = StubFeatures(reply: Array("PacketSize=ffffffffffffffff;qXfer:features:read+".utf8))
        #expect(features.packetSize == nil)
        #expect(features.supports("qXfer:features:read"))
    }

    @Test func registerNumbersAndSizesOutOfRangeAreSkipped() throws {
        let xml = """
            <target><feature name="f">
            <reg name="a" bitsize="64" regnum="9223372036854775807"/>
            <reg name="b" bitsize="-8"/>
            <reg name="c" bitsize="64"/>
            </feature></target>
            """
        let d = try TargetDescription(xml: xml, fetch: { _ in "" })
        #expect(d.registers.map(\.name) == ["c"])
        #expect(d.registers.first?.number == 0)
    }

    /// fuzz-targetxml, 2026-11-30 (a 20 s timeout): a file that includes itself twice doubled
    /// the work at each of 8 levels. Includes are now fetched at most 32 times in all.
    @Test func selfIncludingDescriptionsStopAfterABoundedNumberOfFetches() throws {
        var fetches = 0
        let doc = "<xi:include href=\"a\"/><xi:include href=\"a\"/><reg name=\"r\" bitsize=\"8\"/>"
        let d = try TargetDescription(xml: doc, fetch: { _ in fetches += 1; return doc })
        #expect(fetches == TargetDescription.maximumIncludes)
        #expect(d.registers.count == TargetDescription.maximumIncludes + 1)
    }
}
