import Testing

/// What `kmemscope help` tells a user: the exit statuses (top level and verify) and, for each
/// view, what its columns mean — checked on the help the binary prints, one phrase per column
/// group, so a view whose output grows a column without a word in its help is noticed.
@Suite("Help texts")
struct HelpTextTests {
    static func help(_ words: [String]) throws -> String {
        let r = try InfoCommandTests.kmemscope(["help"] + words)
        #expect(r.status == 0, "\(words): \(r.err)")
        // ArgumentParser wraps at 80 columns: compare words, not lines
        return r.out.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test func exitStatusesAreExplained() throws {
        for words in [[], ["verify"]] {
            let text = try Self.help(words)
            #expect(text.contains("Exit status: 0") && text.contains("1 violations found") && text.contains("no verdict"),
                    "\(words): \(text)")
        }
    }

    @Test(arguments: [
        ("zones", ["managed = present − boot-reserved", "pcp = pages in the per-CPU caches, every CPU's", "min, low, high = watermarks",
                   "--tree:", "on lists = Σ nr_free × 2^order"]),
        ("buddyinfo", ["one column per order 0…MAX_ORDER", "free blocks of that order"]),
        ("pagetypeinfo", ["type (migratetype)", "pageblocks"]),
        ("zoneinfo", ["protection:", "count = pages in its per-CPU cache", "batch = pages moved"]),
        ("slabinfo", ["active objects", "objects per slab", "active slabs"]),
        ("frame", ["flags (hex, then by name)", "owner tag", "next and prev", "last changed", "page_type"]),
        ("freelist", ["the kernel's own count", "in list order", "exit status is 1"]),
        ("kmem", ["its space", "object index", "handed it out"]),
        ("vtop", ["PML4E, PDPTE, PDE, PTE", "P present", "NX no-execute"]),
        ("log", ["seq N", "the status (ok, failed, misuse, corrupt)", "(inside N)"]),
        ("info", ["orders 0…MAX_ORDER (inclusive", "agree with DWARF"]),
        ("watch", ["free pages", "the verdict"]),
    ])
    func eachViewSaysWhatItsColumnsMean(view: String, phrases: [String]) throws {
        let text = try Self.help([view])
        for phrase in phrases { #expect(text.contains(phrase), "help \(view) lacks \"\(phrase)\": \(text)") }
    }

    /// Commands whose output is no document refuse --json (usage error, 2) instead of printing text.
    @Test(arguments: [["watch"], ["report", "-o", "/nonexistent/kmemscope-report.html"], ["dump", "frame-meta", "-o", "/nonexistent/x.bin"]])
    func jsonIsRefusedWhereItDoesNotApply(command: [String]) throws {
        let r = try InfoCommandTests.kmemscope(command + ["--json"])
        #expect(r.status == 2 && r.err.contains("--json does not apply") && r.out.isEmpty, "\(command): \(r.err)")
        // and its help does not offer what it refuses
        let help = try InfoCommandTests.kmemscope([command[0], "--help"])
        #expect(help.status == 0 && help.out.contains("--elf") && !help.out.contains("--json"), "\(command): \(help.out)")
    }
}
