import CLibKdumpfile
import Glibc

/// Guest-physical memory of a kdump-compressed file (makedumpfile's, QEMU's `-z/-l/-s`) read
/// through libkdumpfile (`kdump_read` of machine-physical addresses: x86-64 without Xen has no
/// other). A page the dump left out (makedumpfile `-d`: free, cache, user, zero pages) is
/// ``GuestMemoryError/unmapped(_:address:count:source:)`` naming the file. libkdumpfile's
/// pointers never leave this type.
public final class KdumpMemory: GuestMemory, @unchecked Sendable {
    public let path: String
    private let context: OpaquePointer
    private let fd: Int32
    /// VMCOREINFO as libkdumpfile found it, nil when the dump has none.
    public let vmcoreinfoText: String?
    /// One past the highest page frame (libkdumpfile's `max_pfn`) × the page size.
    public let end: UInt64

    /// Opens the kdump file at `path` (a real one: a flattened file is rearranged first, ``FlattenedDump``).
    public init(path: String, displayPath: String) throws(VmcoreError) {
        self.path = displayPath
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: displayPath, reason: String(cString: strerror(errno))) }
        guard let context = kdump_new() else {
            close(fd)
            throw .library(path: displayPath, reason: "kdump_new failed (out of memory)")
        }
        let status = kdump_open_fd(context, fd)
        guard status == KDUMP_OK else {
            let reason = String(cString: kdump_get_err(context))
            kdump_free(context)
            close(fd)
            throw .library(path: displayPath, reason: reason)
        }
        self.context = context
        self.fd = fd
        var raw: UnsafeMutablePointer<CChar>?
        if kdump_vmcoreinfo_raw(context, &raw) == KDUMP_OK, let raw {
            vmcoreinfoText = String(cString: raw)
            free(raw)
        } else {
            vmcoreinfoText = nil
        }
        var maxPFN: kdump_num_t = 0
        var pageSize: kdump_num_t = 4096
        _ = kdump_get_number_attr(context, "arch.page_size", &pageSize)
        if kdump_get_number_attr(context, "max_pfn", &maxPFN) == KDUMP_OK {
            let (e, o) = UInt64(maxPFN).multipliedReportingOverflow(by: UInt64(pageSize))
            end = o ? .max : e
        } else {
            end = .max
        }
    }

    deinit {
        kdump_free(context)
        close(fd)
    }

    public func read(at address: UInt64, count: Int) throws -> [UInt8] {
        throw GuestMemoryError.unsupportedSpace(.kernelVirtual, source: "the vmcore's physical memory")
    }

    public func read(_ space: AddressSpace, at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard space == .guestPhysical else { throw GuestMemoryError.unsupportedSpace(space, source: "the vmcore's physical memory") }
        guard buffer.count > 0 else { return }
        var length = buffer.count
        let status = kdump_read(context, KDUMP_MACHPHYSADDR, kdump_addr_t(address), buffer.baseAddress, &length)
        guard status == KDUMP_OK, length == buffer.count else {
            let reason = String(cString: kdump_get_err(context))
            let missing = address &+ UInt64(length)
            throw GuestMemoryError.unmapped(.guestPhysical, address: missing, count: buffer.count - length,
                                            source: "the vmcore \(path) (\(reason))")
        }
    }
}
