/// How a walk of a circular doubly linked list (Linux's `list_head`) ended.
public enum ListWalkEnd: Sendable, Equatable {
    /// Back at the head: the list is closed.
    case closed
    /// The walk took `limit` steps without getting back to the head.
    case limitReached(limit: Int)
    /// `node` was reached a second time (a cycle that does not pass the head).
    case cycle(node: UInt64)
    /// `node.prev` is not the node (or head) it was reached from.
    case brokenBackLink(node: UInt64, prev: UInt64, expected: UInt64)
    /// `node` could not be read (unmapped, or not a kernel address).
    case unreadable(node: UInt64, reason: String)
}

/// The nodes of one list and how the walk ended. Every value comes from the guest: the walk
/// is bounded, stops on a cycle and on the first node it cannot read, and says where.
public struct ListWalk: Sendable, Equatable {
    /// Node addresses (the `list_head` inside each entry), in `next` order, head excluded.
    public var nodes: [UInt64]
    public var end: ListWalkEnd

    public init(nodes: [UInt64], end: ListWalkEnd) {
        self.nodes = nodes
        self.end = end
    }

    /// Walks from `head`, following `next`, at most `limit` nodes.
    ///
    /// - Parameter links: reads a node's (next, prev) pointers.
    public static func walk(head: UInt64, limit: Int,
                            links: (UInt64) throws -> (next: UInt64, prev: UInt64)) -> ListWalk {
        var nodes: [UInt64] = []
        var seen: Set<UInt64> = []
        let first: UInt64
        do { first = try links(head).next } catch {
            return ListWalk(nodes: [], end: .unreadable(node: head, reason: "\(error)"))
        }
        var previous = head
        var node = first
        while node != head {
            guard nodes.count < limit else { return ListWalk(nodes: nodes, end: .limitReached(limit: limit)) }
            guard seen.insert(node).inserted else { return ListWalk(nodes: nodes, end: .cycle(node: node)) }
            let next: UInt64, prev: UInt64
            do { (next, prev) = try links(node) } catch {
                return ListWalk(nodes: nodes, end: .unreadable(node: node, reason: "\(error)"))
            }
            guard prev == previous else {
                return ListWalk(nodes: nodes, end: .brokenBackLink(node: node, prev: prev, expected: previous))
            }
            nodes.append(node)
            previous = node
            node = next
        }
        return ListWalk(nodes: nodes, end: .closed)
    }
}

extension ListWalk {
    /// Walks a list that ends in `terminator` (a PFN-linked list such as the bundled kernel's
    /// free and per-CPU lists, `UInt64.max` = none) from `first`, following `next`, at most
    /// `limit` nodes. It ends `.closed` at the terminator, and stops at a node seen before, at
    /// the limit, or at a node `next` cannot read (it throws for a link out of range).
    public static func walk(first: UInt64, terminator: UInt64, limit: Int,
                            next: (UInt64) throws -> UInt64) -> ListWalk {
        var nodes: [UInt64] = []
        var seen: Set<UInt64> = []
        var node = first
        while node != terminator {
            guard nodes.count < limit else { return ListWalk(nodes: nodes, end: .limitReached(limit: limit)) }
            guard seen.insert(node).inserted else { return ListWalk(nodes: nodes, end: .cycle(node: node)) }
            let following: UInt64
            do { following = try next(node) } catch {
                return ListWalk(nodes: nodes, end: .unreadable(node: node, reason: "\(error)"))
            }
            nodes.append(node)
            node = following
        }
        return ListWalk(nodes: nodes, end: .closed)
    }
}
