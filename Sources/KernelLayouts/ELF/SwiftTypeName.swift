/// Names of Swift types as DWARF spells them (type manglings ending in `D`), made readable.
enum SwiftTypeName {
    /// `$e6Kernel9FrameMetaVD` → `Kernel.FrameMeta` (demangled by the runtime, `Swift.` kept).
    static func demangled(_ mangled: String) -> String? { SwiftDemangler.demangle(mangled) }

    /// Drops every `Swift.` module prefix: `Fix.Box<Swift.UInt64>` → `Fix.Box<UInt64>`.
    static func withoutStdlibPrefix(_ name: String) -> String {
        name.replacingAll("Swift.", with: "")
    }

    /// Drops a leading `Module.`: `Fix.Box<UInt64>` → `Box<UInt64>`.
    static func withoutModule(_ name: String, module: String?) -> String {
        guard let module, name.hasPrefix(module + ".") else { return name }
        return String(name.dropFirst(module.count + 1))
    }

    /// The index of the generic parameter a placeholder type stands for: `$exD` (τ_0_0) → 0,
    /// `$eq_D` → 1, `$eq0_D` → 2, `$eq1_D` → 3; nil for any other name.
    static func genericParameterIndex(_ name: String?) -> Int? {
        guard let name, name.hasSuffix("D"), name.hasPrefix("$e") || name.hasPrefix("$s") else { return nil }
        let body = name.dropFirst(2).dropLast()
        if body == "x" { return 0 }
        if body == "q_" { return 1 }
        if body.hasPrefix("q"), body.hasSuffix("_"), let n = Int(body.dropFirst().dropLast()) { return n + 2 }
        return nil
    }
}
