/// Closest-name suggestions for "not found" errors: Levenshtein distance on names,
/// with names containing the query ranked first.
enum NameDistance {
    /// Edit distance between two strings, compared case-insensitively.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased().utf8), y = Array(b.lowercased().utf8)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// Up to `limit` names from `names` closest to `query`, best first.
    static func closest(to query: String, in names: some Sequence<String>, limit: Int = 5) -> [String] {
        let q = query.lowercased()
        var scored: [(Int, String)] = []
        var seen = Set<String>()
        for name in names where seen.insert(name).inserted {
            let lower = name.lowercased()
            let score = lower.contains(q) || q.contains(lower) ? -1000 + abs(lower.count - q.count)
                : distance(q, lower)
            if score <= max(3, q.count / 2) { scored.append((score, name)) }
        }
        scored.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return scored.prefix(limit).map(\.1)
    }
}
