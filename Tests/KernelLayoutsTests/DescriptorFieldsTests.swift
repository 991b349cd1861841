import Foundation
import KernelLayouts
import Testing

/// The table of descriptor rules and its documentation stay in step (issue 22).
@Suite struct DescriptorFieldsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyFieldIsDocumentedInChecksMD() throws {
        let doc = try String(contentsOf: Self.root.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        for (key, rules) in DescriptorFields.table {
            #expect(doc.contains("| `\(key)` |"), "docs/checks.md has no row for \(key)")
            #expect(!rules.isEmpty, "\(key) has no rule")
        }
        #expect(Set(DescriptorFields.table.map(\.key)).count == DescriptorFields.table.count, "a key twice in the table")
    }

    @Test func layoutKeysAreCheckedAgainstDWARFByPattern() {
        #expect(DescriptorFields.rules(for: "SIZE(FrameMeta)") == [.dwarfSize])
        #expect(DescriptorFields.rules(for: "OFFSET(OpLogEntry.cpu)") == [.dwarfOffset])
        #expect(DescriptorFields.rules(for: "NO_SUCH_KEY") == nil)
    }
}
