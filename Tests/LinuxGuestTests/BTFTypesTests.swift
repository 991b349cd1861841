import Foundation
import Testing
@testable import LinuxKernel

/// BTFTypes on the host kernel's own BTF (any recent kernel has these types), and on bad bytes.
struct BTFTypesTests {
    static let hostBTF = "/sys/kernel/btf/vmlinux"

    @Test(.enabled(if: FileManager.default.isReadableFile(atPath: hostBTF), "the host has no /sys/kernel/btf/vmlinux"))
    func hostKernelLayout() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.hostBTF)))
        let btf = try BTFTypes(bytes: bytes)
        #expect(btf.typeCount > 10_000)
        #expect(try btf.member("next", of: "list_head").offset == 0)
        #expect(try btf.member("prev", of: "list_head").offset == 8)
        #expect(try btf.size(ofStruct: "list_head") == 16)
        let layout = try LinuxMMLayout(btf: btf)
        #expect(layout.pageSize == 64)
        #expect(layout.orderCount >= 11)
        #expect(layout.migratetypeCount >= 4)
        #expect(layout.zoneCount >= 3)
        #expect(throws: BTFError.missingMember(type: "list_head", member: "nope")) {
            try btf.member("nope", of: "list_head")
        }
        #expect(throws: BTFError.missingType("no_such_struct_kmemscope")) {
            try btf.size(ofStruct: "no_such_struct_kmemscope")
        }
    }

    @Test func badBytesAreRejected() {
        #expect(throws: BTFError.badMagic(found: 0x0201)) { _ = try BTFTypes(bytes: [1, 2] + Array(repeating: 0, count: 30)) }
        #expect(throws: BTFError.self) { _ = try BTFTypes(bytes: [0x9f, 0xeb, 1, 0] + Array(repeating: 0xff, count: 30)) }
    }
}
