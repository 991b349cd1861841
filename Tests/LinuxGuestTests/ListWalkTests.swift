import Testing
@testable import LinuxKernel

/// The bounded list walk on hand-made lists (node → (next, prev)).
struct ListWalkTests {
    struct Unmapped: Error {}

    func walk(_ links: [UInt64: (UInt64, UInt64)], head: UInt64 = 0x100, limit: Int = 100) -> ListWalk {
        ListWalk.walk(head: head, limit: limit) { node in
            guard let l = links[node] else { throw Unmapped() }
            return (l.0, l.1)
        }
    }

    @Test func closedList() {
        let w = walk([0x100: (0x200, 0x300), 0x200: (0x300, 0x100), 0x300: (0x100, 0x200)])
        #expect(w.nodes == [0x200, 0x300])
        #expect(w.end == .closed)
    }

    @Test func emptyList() {
        #expect(walk([0x100: (0x100, 0x100)]) == ListWalk(nodes: [], end: .closed))
    }

    @Test func cycleNotThroughHeadStops() {
        let w = walk([0x100: (0x200, 0x300), 0x200: (0x300, 0x100), 0x300: (0x200, 0x200)])
        #expect(w.end == .brokenBackLink(node: 0x200, prev: 0x100, expected: 0x300) || w.end == .cycle(node: 0x200))
        #expect(w.nodes == [0x200, 0x300])
    }

    @Test func limitBoundsTheWalk() {
        var links: [UInt64: (UInt64, UInt64)] = [0x100: (0x1000, 0)]
        for i in UInt64(0)..<1000 { links[0x1000 + i * 16] = (0x1000 + (i + 1) * 16, i == 0 ? 0x100 : 0x1000 + (i - 1) * 16) }
        let w = walk(links, limit: 10)
        #expect(w.nodes.count == 10)
        #expect(w.end == .limitReached(limit: 10))
    }

    @Test func unreadableNodeStops() {
        let w = walk([0x100: (0x200, 0x200), 0x200: (0xdead, 0x100)])
        #expect(w.nodes == [0x200])
        if case .unreadable(let node, _) = w.end { #expect(node == 0xdead) } else { Issue.record("\(w.end)") }
    }

    @Test func brokenBackLinkStops() {
        let w = walk([0x100: (0x200, 0x300), 0x200: (0x300, 0x100), 0x300: (0x100, 0x999)])
        #expect(w.nodes == [0x200])
        #expect(w.end == .brokenBackLink(node: 0x300, prev: 0x999, expected: 0x200))
    }
}
