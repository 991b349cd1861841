import AllocatorView
import Testing

/// The walk of a list that ends in a terminator (PFN-linked, `UInt64.max` = none).
@Suite("ListWalk: terminated lists")
struct ListWalkTerminatedTests {
    struct Unreadable: Error {}

    func walk(_ links: [UInt64: UInt64], first: UInt64, limit: Int = 10) -> ListWalk {
        ListWalk.walk(first: first, terminator: .max, limit: limit) { node in
            guard let next = links[node] else { throw Unreadable() }
            return next
        }
    }

    @Test func endsAtTheTerminator() {
        #expect(walk([1: 2, 2: .max], first: 1) == ListWalk(nodes: [1, 2], end: .closed))
        #expect(walk([:], first: .max) == ListWalk(nodes: [], end: .closed))
    }

    @Test func stopsAtACycleTheLimitAndAnUnreadableNode() {
        #expect(walk([1: 2, 2: 3, 3: 2], first: 1) == ListWalk(nodes: [1, 2, 3], end: .cycle(node: 2)))
        #expect(walk([1: 2, 2: 3, 3: .max], first: 1, limit: 2) == ListWalk(nodes: [1, 2], end: .limitReached(limit: 2)))
        let broken = walk([1: 7], first: 1)
        #expect(broken.nodes == [1])
        let unreadableAt7: Bool
        if case .unreadable(node: 7, reason: _) = broken.end { unreadableAt7 = true } else { unreadableAt7 = false }
        #expect(unreadableAt7, "\(broken.end)")
    }
}
