import Testing
import LinuxKernel

/// Which page-type scheme a kernel is read with (issue 18, "Not one kernel build"): BTF's `enum
/// pagetype` when it has one, 6.1's table only for the release it came from, and a refusal
/// with a clear message for anything else. The types are synthetic (no guest needed).
struct PageTypeVersionTests {
    /// Kernel types with the given enums and no structs.
    final class Enums: KernelTypes {
        let enums: [String: [(name: String, value: Int64)]]
        init(_ enums: [String: [(name: String, value: Int64)]]) { self.enums = enums }
        var origin: String { "synthetic" }
        var typeCount: Int { enums.count }
        func size(ofStruct name: String) throws(BTFError) -> Int { throw .missingType(name) }
        func member(_ path: String, of type: String) throws(BTFError) -> BTFMember { throw .missingType(type) }
        func enumValue(_ name: String, in enumName: String) throws(BTFError) -> Int64 {
            guard let value = try enumCases(of: enumName).first(where: { $0.name == name })?.value else { throw .missingType(enumName) }
            return value
        }
        func enumCases(of enumName: String) throws(BTFError) -> [(name: String, value: Int64)] {
            guard let cases = enums[enumName] else { throw .missingType(enumName) }
            return cases
        }
    }

    static func version(_ banner: String) -> LinuxKernelVersion? { LinuxKernelVersion(banner: banner) }

    @Test func aKnownReleaseWithoutTheEnumUsesItsTable() throws {
        let v = try #require(Self.version("Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) (gcc-12 …"))
        #expect(try LinuxPageTypes(btf: Enums([:]), version: v) == .clearedBits)
        // the RT flavour's banner is the same release
        let rt = try #require(Self.version("Linux version 6.1.0-57-rt-amd64 (debian-kernel@lists.debian.org)"))
        #expect(try LinuxPageTypes(btf: Enums([:]), version: rt) == .clearedBits)
    }

    @Test(arguments: ["Linux version 6.8.0-31-generic (buildd@lcy02-amd64-080)", "Linux version 5.15.0-105-generic (buildd@…)",
                      "Linux version 7.3.0 (someone@somewhere)"])
    func anUnknownReleaseWithoutTheEnumIsRefused(banner: String) throws {
        let v = try #require(Self.version(banner))
        let error = #expect(throws: LinuxPageTypes.Unknown.self) { try LinuxPageTypes(btf: Enums([:]), version: v) }
        let message = try #require(error).description
        #expect(message.hasPrefix("Linux \(v) has no enum pagetype in its BTF"), "\(message)")
        #expect(message.contains("only for Linux 6.1") && message.contains("not read rather than misread"), "\(message)")
    }

    @Test func anUnreadableBannerWithoutTheEnumIsRefused() throws {
        let error = #expect(throws: LinuxPageTypes.Unknown.self) { try LinuxPageTypes(btf: Enums([:]), version: nil) }
        #expect(try #require(error).description.contains("linux_banner unreadable, so its release is unknown"))
    }

    @Test func theEnumDecidesWhateverTheRelease() throws {
        let pagetype: [(name: String, value: Int64)] = [("PGTY_buddy", 0xf0), ("PGTY_offline", 0xf1), ("PGTY_slab", 0xf5), ("PGTY_mapcount_underflow", 0xff)]
        let types = try LinuxPageTypes(btf: Enums(["pagetype": pagetype]), version: Self.version("Linux version 7.3.0 (x)"))
        #expect(types.isBuddy(0xf000_0000) && types.names(0xf500_0000) == ["slab"])
        // an enum without PGTY_buddy is refused even for a release with a table
        let other = #expect(throws: LinuxPageTypes.Unknown.self) {
            try LinuxPageTypes(btf: Enums(["pagetype": [("PGTY_slab", 0xf5)]]), version: Self.version("Linux version 6.1.0 (x)"))
        }
        #expect(try #require(other).description.contains("has no PGTY_buddy"))
    }
}
