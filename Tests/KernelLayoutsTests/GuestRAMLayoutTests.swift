import KernelLayouts
import Testing

/// `info ramblock` as QEMU 7.2 printed it: one block per NUMA node's memory backend, and a
/// plain guest with its VGA memory beside pc.ram.
@Suite struct GuestRAMLayoutTests {
    static let numa = """
                      Block Name    PSize              Offset               Used              Total
                              m0    4 KiB  0x0000000000000000 0x0000000020000000 0x0000000020000000
                              m1    4 KiB  0x0000000020000000 0x0000000020000000 0x0000000020000000
            /rom@etc/acpi/tables    4 KiB  0x0000000040080000 0x0000000000020000 0x0000000000200000
                         pc.bios    4 KiB  0x0000000040000000 0x0000000000040000 0x0000000000040000
        """
    static let plain = """
                      Block Name    PSize              Offset               Used              Total
                          pc.ram    4 KiB  0x0000000000000000 0x0000000010000000 0x0000000010000000
            0000:00:02.0/vga.vram    4 KiB  0x0000000010000000 0x0000000001000000 0x0000000001000000
        """
    static let mtree = """
        FlatView #0
         AS "memory", root: system
         Root memory region: system
          0000000000000000-000000000009ffff (prio 0, ram): pc.ram KVM
          0000000000100000-000000000fffffff (prio 0, ram): pc.ram @0000000000100000 KVM
        """

    static let numaMtree = """
        FlatView #0
         AS "memory", root: system
         Root memory region: system
          0000000000000000-000000000009ffff (prio 0, ram): m0 KVM
          0000000000100000-000000001fffffff (prio 0, ram): m0 @0000000000100000 KVM
          0000000020000000-000000003fffffff (prio 0, ram): m1 KVM
        """

    /// Several RAM blocks (a NUMA guest) are refused as unusable, so the automatic source falls
    /// back to the stub instead of reading node 1's memory as "no RAM" (issue 22).
    @Test func aGuestWithOneBlockPerNodeIsRefused() {
        #expect(throws: GuestMemoryError.self) { try GuestRAMLayout(ramblock: Self.numa, mtree: Self.numaMtree) }
        let layout = try? GuestRAMLayout(ramblock: Self.plain, mtree: Self.mtree)
        #expect(layout?.block == "pc.ram")
    }
}
