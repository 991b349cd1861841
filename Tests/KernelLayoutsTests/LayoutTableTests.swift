import Foundation
import KernelLayouts
import Testing

/// The text `kmemscope layout` prints, against golden files in Snapshots/ (regenerate with
/// KMEMSCOPE_UPDATE_SNAPSHOTS=1), with numbers checked against MemoryLayout as well.
@Suite struct LayoutTableTests {
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Snapshots").path

    @Test(arguments: ["FixtureFrame", "FixtureZone", "FixtureBox<UInt64>", "c_zone"])
    func tableMatchesItsSnapshot(name: String) throws {
        let text = LayoutTable.text(try DwarfTypes(path: Fixtures.get().image).structLayout(named: name)) + "\n"
        let file = Self.snapshots + "/" + name.filter { $0.isLetter || $0.isNumber || $0 == "_" } + ".txt"
        if ProcessInfo.processInfo.environment["KMEMSCOPE_UPDATE_SNAPSHOTS"] == "1" {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text == expected)
    }

    @Test func tableOffsetsAreTheHostOffsets() throws {
        let text = LayoutTable.text(try DwarfTypes(path: Fixtures.get().image).structLayout(named: "FixtureFrame"))
        func column(_ member: String) -> UInt64? {
            let line = text.split(separator: "\n").first { line in
                let fields = line.split(separator: " ")
                return fields.count > 3 && fields[3] == member
            }
            return line.flatMap { UInt64($0.split(separator: " ")[0]) }
        }
        #expect(column("inner") == UInt64(MemoryLayout<FixtureFrame>.offset(of: \.inner)!))
        #expect(column("owner") == UInt64(MemoryLayout<FixtureFrame>.offset(of: \.owner)!))
        #expect(column("seq") == UInt64(MemoryLayout<FixtureFrame>.offset(of: \.seq)!))
        #expect(text.hasPrefix("struct Fix.FixtureFrame  size \(MemoryLayout<FixtureFrame>.size)"))
    }
}
