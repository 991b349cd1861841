import AllocatorView

/// What can be wrong with the kernel's layout descriptor (`kmem_info`) in guest memory.
public enum KernelInfoError: Error, CustomStringConvertible, Equatable {
    /// The header's magic is not "KMEMINFO".
    case badMagic(address: UInt64, found: UInt64)
    /// A version this toolkit does not read.
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// The text size is zero or larger than the descriptor's room.
    case badSize(size: UInt32, limit: Int)
    /// A line that is not `KEY=VALUE`.
    case malformedLine(String)
    /// A key the toolkit needs is absent.
    case missingKey(String)
    /// A value that is not a decimal or `0x` hex number.
    case notANumber(key: String, value: String)
    /// The guest runs another build than the ELF given.
    case buildIDMismatch(elf: String, guest: String)
    /// A published value the ELF contradicts (``DescriptorCrossCheck``): the key, its value in
    /// guest memory (the descriptor at `at`), what the ELF says and where that came from.
    case crossCheck(key: String, published: String, at: UInt64, expected: String, source: String)

    public var description: String {
        switch self {
        case .badMagic(let address, let found):
            return "kmem_info at \(hex(address)) does not start with \"KMEMINFO\" (found \(hex(found))): the guest has not booted this kernel yet, or runs another one"
        case .unsupportedVersion(let found, let supported):
            return "kmem_info version \(found) is not supported (this kmemscope reads version \(supported)): use a matching kmemscope"
        case .badSize(let size, let limit):
            return "kmem_info says its text is \(size) bytes (room: \(limit)): guest memory is corrupted or the kernel has not filled it"
        case .malformedLine(let line):
            return "kmem_info has a line that is not KEY=VALUE: \"\(line.prefix(80))\""
        case .missingKey(let key):
            return "kmem_info has no \(key): the kernel is older or newer than this kmemscope"
        case .notANumber(let key, let value):
            return "kmem_info \(key)=\(value.prefix(40)) is not a number"
        case .buildIDMismatch(let elf, let guest):
            return "build-id mismatch: the ELF is \(elf), the guest runs \(guest): give --elf the image the guest booted"
        case .crossCheck(let key, let published, let at, let expected, let source):
            let which = source.contains("in guest memory") ? "kmem_info or the allocator's root (KmemState) was overwritten"
                : "the guest's layout descriptor was overwritten or belongs to another kernel"
            return "kmem_info \(key)=\(published.prefix(40)) (guest memory, kmem_info at \(hex(at))), but \(source) says \(expected): "
                + "\(which); nothing was decoded"
        }
    }
}
