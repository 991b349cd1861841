import Foundation
import Testing
import LinuxKernel

/// The allocator functions a busy Linux guest is settled by: their ranges from a symbol map,
/// and the guest script greps the same names the library looks for.
struct AllocatorTextTests {
    @Test func rangesRunToTheNextSymbolAndClonesCount() throws {
        let map = try SymbolMap(parsing: """
            ffffffff812f2a70 t __free_one_page
            ffffffff812f2ed0 t free_pcppages_bulk
            ffffffff812f31b0 t drain_pages_zone
            ffffffff812f3220 t page_alloc_cpu_dead
            ffffffff812f35f0 t free_one_page.constprop.0
            ffffffff812f37c0 t __free_pages_ok
            ffffffff812f3dd0 t make_alloc_exact
            ffffffff81400000 T kfree
            """)
        let text = AllocatorText(symbols: map)
        #expect(text.function(containing: 0xffffffff812f2a70)?.name == "__free_one_page")
        #expect(text.function(containing: 0xffffffff812f2ecf)?.name == "__free_one_page")
        #expect(text.function(containing: 0xffffffff812f2ed0)?.name == "free_pcppages_bulk")
        #expect(text.function(containing: 0xffffffff812f3220) == nil, "page_alloc_cpu_dead is not an allocator list function")
        #expect(text.function(containing: 0xffffffff812f3600)?.name == "free_one_page.constprop.0")
        #expect(text.function(containing: 0xffffffff812f3dd0) == nil)
        // the last symbol: no next one, so at most maximumLength
        #expect(text.function(containing: 0xffffffff81400000 + AllocatorText.maximumLength - 1)?.name == "kfree")
        #expect(text.function(containing: 0xffffffff81400000 + AllocatorText.maximumLength) == nil)
    }

    @Test func theGuestScriptGrepsTheSameNames() throws {
        let script = try String(contentsOfFile: LinuxGuest.script, encoding: .utf8)
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("code=\"") })
        let names = line.dropFirst("code=\"".count).dropLast().split(separator: "|").map(String.init)
        #expect(Set(names) == Set(AllocatorText.functionNames),
                "only in the script: \(Set(names).subtracting(AllocatorText.functionNames)); only in AllocatorText: \(Set(AllocatorText.functionNames).subtracting(names))")
    }
}
