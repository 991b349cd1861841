import Foundation
import KernelHarness
import Testing
@testable import KernelMM

/// The frame state machine catches an illegal move at the step that makes it.
@Suite("Frame state machine")
struct FrameStateTests {
    /// The rows under the kernel/README.md table whose header starts with `header`, as cells.
    static func contractRows(header: String) throws -> [[String]] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("kernel/README.md")
        let lines = try String(contentsOf: readme, encoding: .utf8).split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix(header) }, "no table '\(header)' in kernel/README.md")
        return lines[(start + 2)...].prefix(while: { $0.hasPrefix("|") }).map { line in
            line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    static let states: [String: FrameFlags] = ["none": [], "FREE": .free, "ALLOCATED": .allocated, "PCP": .pcp, "RESERVED": .reserved]

    /// Every move of the contract's move table, both ways: the states its row names are the
    /// ones it may start from, every other state is refused, and it leads to its row's state.
    @Test func everyMoveIsItsRowOfTheContract() throws {
        let rows = try Self.contractRows(header: "| move | from | to |")
        #expect(rows.count == FrameMove.allCases.count, "one row per FrameMove")
        var checked = Set<UInt32>()
        for row in rows {
            try #require(row.count >= 3, "\(row)")
            let move = try #require(FrameMove.allCases.first { "\($0.name)" == row[0] }, "no FrameMove named '\(row[0])'")
            let sources = Set(row[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(sources.isSubset(of: Set(Self.states.keys)), "\(row[1])")
            #expect(move.target == Self.states[row[2]], "\(row[0]) leads to \(row[2])")
            for (name, state) in Self.states {
                #expect(move.allows(from: state) == sources.contains(name), "\(row[0]) from \(name)")
            }
            checked.insert(move.rawValue)
        }
        #expect(checked.count == FrameMove.allCases.count)
    }

    /// The contract's 5 × 4 table is the union of the moves: each cell names exactly the moves
    /// that lead from its row's state to its column's, – where none does.
    @Test func theStateTableIsTheUnionOfTheMoves() throws {
        let rows = try Self.contractRows(header: "| from \\ to |")
        let targets = ["FREE", "ALLOCATED", "PCP", "RESERVED"]
        #expect(rows.count == 5)
        var cells = 0
        for row in rows {
            try #require(row.count == targets.count + 1, "\(row)")
            let from = try #require(Self.states[row[0]], "\(row[0])")
            for (to, cell) in zip(targets, row.dropFirst()) {
                let named = cell == "–" ? [] : Set(cell.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                let moves = Set(FrameMove.allCases.filter { $0.target == Self.states[to]! && $0.allows(from: from) }.map { "\($0.name)" })
                #expect(named == moves, "\(row[0]) → \(to)")
                #expect(PageAllocator.isLegal(from: from, to: Self.states[to]!) == !moves.isEmpty)
                cells += 1
            }
        }
        #expect(cells == 20)
    }

    /// The moves the issue named as holes of the old "anything may become FREE" rule.
    @Test func aDoubleFreeAndAReleaseOfAFreeFrameAreRefused() {
        #expect(!FrameMove.free.allows(from: .free), "FREE → FREE by free is a double free")
        #expect(!FrameMove.free.allows(from: .reserved), "RESERVED → FREE only by unreserve or boot's release")
        #expect(!FrameMove.unreserve.allows(from: .allocated))
        #expect(!FrameMove.release.allows(from: .free))
        #expect(!FrameMove.drain.allows(from: .allocated))
        #expect(!FrameMove.reserve.allows(from: .pcp), "a cached frame is claimed before it is reserved")
    }

    /// A frame with two state bits is corrupt: no move out of it is legal; nor is any move
    /// from a bit that is not a state.
    @Test func noMoveFromMixedStates() {
        let single: [FrameFlags] = [.free, .allocated, .pcp, .reserved]
        for (i, a) in single.enumerated() {
            for b in single[(i + 1)...] {
                for move in FrameMove.allCases {
                    #expect(!move.allows(from: a.union(b)), "\(move.name) from \(a.union(b).rawValue)")
                }
            }
        }
        for move in FrameMove.allCases {
            #expect(!move.allows(from: .head), "HEAD is not a state")
            #expect(!move.allows(from: .slab))
        }
    }

    @Test func anIllegalMoveStopsTheProcess() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = try HostArena()
            let p = try #require(try a.allocator.allocate(AllocationRequest(order: 0)))
            a.allocator.transition(a.allocator.meta(p), .cache, head: false)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("by cache: 2 -> 2048"), "\(stderr)")
    }

    /// Freeing's per-frame loop checks its move too: a frame of an allocated block written
    /// FREE behind the allocator's back stops the process at the free, not later.
    @Test func aFreeOverAFreeFrameStopsTheProcess() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = try HostArena()
            let p = try #require(try a.allocator.allocate(AllocationRequest(order: 2)))
            let tail = a.allocator.meta(p &+ 1)
            tail.pointee.flags = tail.pointee.flags & ~FrameFlags.allocated.rawValue | FrameFlags.free.rawValue
            try a.allocator.free(p, order: 2)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("by free: 1 -> 1"), "\(stderr)")
    }

    /// The debug-VM checks are compiled into the tests' KernelMM: a misaligned block listed
    /// stops the process (the default kernel build has none of it; the debug kernel is booted
    /// by DebugVMKernelTests).
    @Test func aMisalignedListingStopsTheDebugBuild() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = try HostArena()
            let p = try #require(try a.allocator.allocate(AllocationRequest(order: 3)))
            let seg = a.allocator.segment(Int(a.allocator.meta(p).pointee.segment))
            a.allocator.markFreed(seg, p, 3)
            a.allocator.pushFree(seg, p &+ 1, 1, 0)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("block not aligned to its order"), "\(stderr)")
    }
}
