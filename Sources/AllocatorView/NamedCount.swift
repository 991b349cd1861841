/// A counter the kernel prints by name (Linux's vmstat items: `nr_free_pages`, `numa_hit`,
/// `nr_inactive_anon`…), in the order the kernel prints them.
public struct NamedCount: Sendable, Equatable {
    /// The name as the kernel prints it (Linux: its `vmstat_text[]` entry).
    public var name: String
    /// The value as the kernel prints it (a negative counter as found; views print it as 0
    /// where the kernel clamps, see ``Counter/pages``).
    public var value: Counter

    public init(name: String, value: Counter) {
        self.name = name
        self.value = value
    }
}
