extension Verifier {
    /// `free-page-poison`: each damaged free page the scan found (nothing when the contents
    /// were not read).
    func checkFreePagePoison(_ r: inout VerifyReport) {
        for d in snapshot.poisonDamage ?? [] {
            let zone = snapshot.frames[d.pfn].flatMap { Int($0.zone) < snapshot.zones.count ? snapshot.zones[Int($0.zone)].name : nil }
            r.add(Violation(.freePagePoison, zone: zone, pfn: d.pfn, expected: "0xaa in every byte of the free page",
                            found: "0x" + String(d.found, radix: 16) + " at offset \(d.offset)"))
        }
    }
}
