/// printf-style padding the /proc layouts use.
enum ProcFormat {
    /// `%Nd`/`%Ns`: right-aligned in `width`.
    static func right(_ v: CustomStringConvertible, _ width: Int) -> String {
        let s = v.description
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    /// `%-Ns`: left-aligned in `width`.
    static func left(_ v: String, _ width: Int) -> String {
        v + String(repeating: " ", count: max(0, width - v.count))
    }
}
