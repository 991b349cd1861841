/// The Swift runtime's demangler, the one `swift-demangle` uses.
///
/// `char *swift_demangle(const char *mangled, size_t length, char *outputBuffer,
/// size_t *outputBufferSize, uint32_t flags)` from libswiftCore; it returns a `malloc`ed
/// string, or NULL when the name is not a Swift mangling.
@_silgen_name("swift_demangle")
private func _swift_demangle(
    _ mangledName: UnsafePointer<CChar>?, _ mangledNameLength: Int,
    _ outputBuffer: UnsafeMutablePointer<CChar>?, _ outputBufferSize: UnsafeMutablePointer<Int>?,
    _ flags: UInt32
) -> UnsafeMutablePointer<CChar>?

#if canImport(Glibc)
import Glibc
#endif

public enum SwiftDemangler {
    /// Whether `name` looks like a Swift mangling (`$s`, `$e` for Embedded Swift, `_$s`, `$S`).
    public static func isSwiftMangled(_ name: String) -> Bool {
        name.hasPrefix("$s") || name.hasPrefix("$e") || name.hasPrefix("_$s") || name.hasPrefix("$S")
            || name.hasPrefix("_$e")
    }

    /// `name` demangled by `swift_demangle`, or nil if it is not a Swift mangling.
    public static func demangle(_ name: String) -> String? {
        guard isSwiftMangled(name) else { return nil }
        var name = name
        return name.withUTF8 { utf8 -> String? in
            utf8.withMemoryRebound(to: CChar.self) { chars -> String? in
                guard let out = _swift_demangle(chars.baseAddress, chars.count, nil, nil, 0) else {
                    return nil
                }
                defer { free(out) }
                return String(cString: out)
            }
        }
    }
}
