import Foundation
import KernelHarness
import Testing
@testable import KernelMM

/// The frame state machine catches an illegal move at the step that makes it.
@Suite("Frame state machine")
struct FrameStateTests {
    /// The contract's table (kernel/README.md, "State moves"): state name → the states it may
    /// move to. Rows are `| FROM | cell | … |` under the `| from \ to | …` header; a cell of
    /// `–` is an illegal move.
    static func contractTable() throws -> [String: Set<String>] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("kernel/README.md")
        let lines = try String(contentsOf: readme, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("| from \\ to |") }, "no state-move table in kernel/README.md")
        func cells(_ line: String) -> [String] {
            line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let targets = Array(cells(lines[header]).dropFirst())
        var table: [String: Set<String>] = [:]
        for line in lines[(header + 2)...].prefix(while: { $0.hasPrefix("|") }) {
            let c = cells(line)
            try #require(c.count == targets.count + 1, "\(line)")
            table[c[0]] = Set(zip(targets, c.dropFirst()).filter { $0.1 != "–" }.map(\.0))
        }
        return table
    }

    static let states: [String: FrameFlags] = ["none": [], "FREE": .free, "ALLOCATED": .allocated, "PCP": .pcp, "RESERVED": .reserved]

    /// Every cell of the contract's table, both ways: what it allows is legal, what it marks –
    /// is not.
    @Test func legalMovesAreTheContractsTable() throws {
        let table = try Self.contractTable()
        #expect(Set(table.keys) == Set(Self.states.keys))
        var cells = 0
        for (fromName, from) in Self.states {
            for (toName, to) in Self.states where toName != "none" {
                let allowed = try #require(table[fromName]).contains(toName)
                #expect(PageAllocator.isLegal(from: from, to: to) == allowed, "\(fromName) → \(toName)")
                cells += 1
            }
        }
        #expect(cells == 20)
        // the moves the kernel's paths make (split/merge, free, unreserve, drain, hand out, refill, reserve)
        #expect(PageAllocator.isLegal(from: .free, to: .free) && PageAllocator.isLegal(from: .reserved, to: .free))
        #expect(!PageAllocator.isLegal(from: .reserved, to: .allocated) && !PageAllocator.isLegal(from: .allocated, to: .pcp))
    }

    /// A frame with two state bits is corrupt: no move out of it is legal, not even to FREE;
    /// nor is a move to "none", to two states, or to a bit that is not a state.
    @Test func noMoveFromOrToMixedStates() {
        let single: [FrameFlags] = [.free, .allocated, .pcp, .reserved]
        for (i, a) in single.enumerated() {
            for b in single[(i + 1)...] {
                for to in single {
                    #expect(!PageAllocator.isLegal(from: a.union(b), to: to), "\(a.union(b).rawValue) → \(to.rawValue)")
                }
            }
        }
        for from in single + [[]] {
            #expect(!PageAllocator.isLegal(from: from, to: []))
            #expect(!PageAllocator.isLegal(from: from, to: [.free, .allocated]))
            #expect(!PageAllocator.isLegal(from: from, to: .head))
        }
        #expect(!PageAllocator.isLegal(from: .head, to: .free), "HEAD is not a state")
    }

    @Test func anIllegalMoveStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let a = try HostArena()
            let p = try #require(try a.allocator.allocate(AllocationRequest(order: 0)))
            a.allocator.transition(a.allocator.meta(p), to: .pcp, head: false)
        }
    }
}
