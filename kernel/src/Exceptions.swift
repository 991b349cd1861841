import KernelSupport

/// The register frame boot.S's isr_common builds, lowest address first.
struct ExceptionFrame {
    var r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax: UInt64
    var vector, error, rip, cs, rflags, rsp, ss: UInt64
}

/// Called by every exception stub: prints the vector, error code and registers, then reports
/// it as a BUG (`kmem_bug`, kind 5) and halts, so a crash is never silent.
@_cdecl("kernel_exception")
func kernelException(_ frame: UnsafeMutableRawPointer) {
    let f = frame.assumingMemoryBound(to: ExceptionFrame.self).pointee
    console.newline()
    console.write("kmem: EXCEPTION vector "); console.dec(f.vector)
    console.write(" error "); console.hex(f.error)
    console.write(" rip "); console.hex(f.rip, digits: 16)
    console.write(" cr2 "); console.hex(read_cr2(), digits: 16); console.newline()
    reg("rax", f.rax); reg("rbx", f.rbx); reg("rcx", f.rcx); reg("rdx", f.rdx); console.newline()
    reg("rsi", f.rsi); reg("rdi", f.rdi); reg("rbp", f.rbp); reg("rsp", f.rsp); console.newline()
    reg("r8 ", f.r8); reg("r9 ", f.r9); reg("r10", f.r10); reg("r11", f.r11); console.newline()
    reg("r12", f.r12); reg("r13", f.r13); reg("r14", f.r14); reg("r15", f.r15); console.newline()
    reg("cs ", f.cs); reg("ss ", f.ss); reg("rfl", f.rflags); reg("cr3", read_cr3()); console.newline()
    let cr2 = read_cr2()
    kernelBug(.exception, code: f.vector, rip: f.rip, detail: f.error, detail2: cr2) { out in
        out.write("CPU exception vector "); out.dec(f.vector); out.write(" error "); out.hex(f.error)
        out.write(" rip "); out.hex(f.rip); out.write(" cr2 "); out.hex(cr2)
    }
}

private func reg(_ name: StaticString, _ v: UInt64) {
    console.write("  "); console.write(name); console.write("="); console.hex(v, digits: 16)
}
