/// The migratetypes' names as `/proc/pagetypeinfo` prints them (the bundled kernel's two;
/// a free-list slot beyond them is `slot N`). One place for the frame view and the free lists.
public enum MigratetypeName {
    /// The names of the migratetypes in use, by slot.
    public static let names = ["Unmovable", "Movable"]

    /// `Unmovable`, `Movable`, or `slot N` for a slot with no name.
    public static func of(_ slot: Int) -> String {
        slot >= 0 && slot < names.count ? names[slot] : "slot \(slot)"
    }
}
