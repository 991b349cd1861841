import Glibc
import KernelLayouts
import Synchronization

/// A debug-build-only way to make kmemscope die on purpose in the middle of reading a guest,
/// so a test can watch ``GuestGuard`` give the guest back: `KMEMSCOPE_DEBUG_TRAP=mid-read`
/// (a Swift runtime trap), `mid-read-segv` (a bad pointer write), `mid-read-stack` (a stack
/// overflow) or `mid-read-abort` (abort(3))
/// fires on the third read through the stub. Release builds ignore the variable.
enum DebugTrap {
    #if DEBUG
    private static let mode: String? = getenv("KMEMSCOPE_DEBUG_TRAP").map { String(cString: $0) }
    private static let reads = Atomic<Int>(0)
    #endif

    #if DEBUG
    /// Overflows the stack (a SIGSEGV on the guard page, handled on the alternate stack).
    private static func recurse(_ depth: Int) -> Int {
        var frame = (depth, depth, depth, depth, depth, depth, depth, depth)
        return withUnsafeMutableBytes(of: &frame) { $0.count } + recurse(depth + 1)
    }
    #endif

    /// Called on every read through the stub.
    static func reading() {
        #if DEBUG
        guard let mode, mode.hasPrefix("mid-read") else { return }
        guard reads.wrappingAdd(1, ordering: .relaxed).newValue == 3 else { return }
        switch mode {
        case "mid-read-segv":
            UnsafeMutablePointer<Int>(bitPattern: 16)!.pointee = 1
        case "mid-read-abort":
            abort()
        case "mid-read-stack":
            print(recurse(1))
        default:
            fatalError("KMEMSCOPE_DEBUG_TRAP=\(mode): trapping on purpose in the middle of a read")
        }
        #endif
    }
}

extension DebugTrap {
    /// `memory` itself, or in a debug build with `KMEMSCOPE_DEBUG_TRAP` set, `memory` with the
    /// trap on its reads (for sources other than the stub, which calls ``reading()`` itself).
    static func wrap(_ memory: any GuestMemory) -> any GuestMemory {
        #if DEBUG
        guard mode != nil, !(memory is StubMemory) else { return memory }
        return TrappingMemory(base: memory)
        #else
        return memory
        #endif
    }
}

/// A source whose reads call ``DebugTrap/reading()`` first (debug builds only).
private struct TrappingMemory: GuestMemory {
    let base: any GuestMemory
    func read(at address: UInt64, count: Int) throws -> [UInt8] {
        DebugTrap.reading()
        return try base.read(at: address, count: count)
    }
    func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        DebugTrap.reading()
        try base.read(space, at: address, into: buffer)
    }
}
