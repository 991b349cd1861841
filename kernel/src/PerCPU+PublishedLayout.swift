/// `PerCPU`'s field table (kernel/mm/PublishedLayout.swift): `SIZE(PerCPU)` and
/// `OFFSET(PerCPU.field)`, written by `writeCPUKeys` measured on CPU 0's area.
extension PerCPU: PublishedLayout {
    static var publishedName: StaticString { "PerCPU" }
    static var sizeSection: LayoutSection { .cpus }
    static func publishedFields(of p: UnsafeMutablePointer<PerCPU>,
                                _ field: (StaticString, LayoutSection, UnsafeMutableRawPointer) -> Void) {
        field("selfAddress", .cpus, &p.pointee.selfAddress)
        field("cpu", .cpus, &p.pointee.cpu)
        field("apicID", .cpus, &p.pointee.apicID)
        field("state", .cpus, &p.pointee.state)
        field("stackTop", .cpus, &p.pointee.stackTop)
    }
}
