// Port I/O, control registers and linker symbols for the Embedded Swift kernel.
// Everything here is static inline, so it is inlined into Swift.
#pragma once
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline void cpu_halt(void) { __asm__ volatile("cli; hlt"); }
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }

extern char __kernel_start[], __kernel_end[];
/// Virtual address of the first byte of the kernel image.
static inline uint64_t kernel_image_start(void) { return (uint64_t)__kernel_start; }
/// Virtual address one past the kernel image (bss included).
static inline uint64_t kernel_image_end(void) { return (uint64_t)__kernel_end; }

extern char __build_id_note[], __build_id_note_end[];
/// Address of the GNU build-id note (namesz, descsz, type, "GNU\0", the id).
static inline const uint8_t *build_id_note(void) { return (const uint8_t *)__build_id_note; }
static inline uint64_t build_id_note_size(void) { return (uint64_t)(__build_id_note_end - __build_id_note); }

extern uint8_t kmem_info[];
/// The layout descriptor buffer (16 KiB).
static inline uint8_t *kmem_info_buffer(void) { return kmem_info; }

extern uint8_t kmem_bug[];
/// The BUG record (256 bytes, kernel/mm/BugRecord.swift), zero until a BUG.
static inline uint8_t *kmem_bug_record(void) { return kmem_bug; }
static inline uint64_t kmem_bug_address(void) { return (uint64_t)kmem_bug; }
extern char kmem_bug_halt[];
/// Address of boot.S's kmem_bug_halt, the loop every BUG stops in.
static inline uint64_t kmem_bug_halt_address(void) { return (uint64_t)kmem_bug_halt; }

extern volatile uint64_t kmem_stop_seq;
/// The sequence number a debugger asked to stop at (0 = none).
static inline uint64_t stop_sequence_address(void) { return (uint64_t)&kmem_stop_seq; }

/// A read the compiler cannot drop (for crash=pagefault).
static inline uint64_t volatile_read_u64(uint64_t address) { return *(volatile uint64_t *)address; }

/// Boot identity (kmem_info BOOT_ID): the time-stamp counter, and RDRAND when the CPU has it
/// (CPUID.1:ECX bit 30; QEMU's default TCG CPU does not).
static inline uint64_t read_tsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline int cpu_has_rdrand(void) { uint32_t a = 1, b, c = 0, d; __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d)); return (int)((c >> 30) & 1); }
static inline int rdrand64(uint64_t *out) { unsigned char ok; __asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok)); return ok; }

// ---- Several CPUs (src/SMP.swift, src/PerCPU.swift, src/LocalAPIC.swift) ----

/// Physical address the AP trampoline is copied to (boot.S AP_TRAMPOLINE; a page in the
/// reserved first MiB, so its SIPI vector is `AP_TRAMPOLINE_PHYS >> 12`).
#define AP_TRAMPOLINE_PHYS 0x8000ULL
/// CPUs the kernel can run on (boot.S MAX_CPUS), and the bytes of one per-CPU area (PERCPU_SIZE).
#define KMEM_MAX_CPUS 16
#define KMEM_PERCPU_SIZE 256

extern char ap_trampoline_start[], ap_trampoline_end[];
/// Where the trampoline's bytes are in the kernel image, and how many there are.
static inline const uint8_t *ap_trampoline_image(void) { return (const uint8_t *)ap_trampoline_start; }
static inline uint64_t ap_trampoline_size(void) { return (uint64_t)(ap_trampoline_end - ap_trampoline_start); }

extern uint32_t cpu_apic_ids[];
/// Records CPU `cpu`'s initial APIC ID, which the AP looks up in boot.S to find its number and stack.
static inline void set_cpu_apic_id(uint32_t cpu, uint32_t apic) { ((volatile uint32_t *)cpu_apic_ids)[cpu] = apic; }

extern uint8_t kmem_percpu[];
/// The per-CPU areas (KMEM_MAX_CPUS × KMEM_PERCPU_SIZE bytes).
static inline uint8_t *percpu_areas(void) { return kmem_percpu; }
extern uint8_t kmem_pcp[];
/// The per-CPU page caches' table (KMEM_MAX_CPUS × 3 PerCPUPages; kernel/README.md "Per-CPU caches").
static inline uint64_t pcp_table_address(void) { return (uint64_t)(uintptr_t)kmem_pcp; }
extern uint8_t kmem_cpu_ops[];
/// Each CPU's in-operation row (KMEM_MAX_CPUS × 64 bytes; kernel/README.md "Operations in progress").
static inline uint64_t cpu_ops_table_address(void) { return (uint64_t)(uintptr_t)kmem_cpu_ops; }

extern char ap_park[];
/// boot.S's ap_park: where a parked AP halts, never to return.
static inline uint64_t ap_park_address(void) { return (uint64_t)ap_park; }
__attribute__((noreturn)) static inline void ap_park_forever(void) {
    __asm__ volatile("jmp ap_park");
    __builtin_unreachable();
}

extern volatile uint64_t kmem_cpus;
/// The number of CPUs running the kernel.
static inline uint64_t cpu_count(void) { return kmem_cpus; }
/// Address of kmem_cpus (published as CPU_COUNT's witness).
static inline uint64_t cpu_count_address(void) { return (uint64_t)&kmem_cpus; }
/// Publishes the number of CPUs running the kernel.
static inline void set_cpu_count(uint64_t n) { kmem_cpus = n; }

static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/// The 32-bit word at offset `off` of the running CPU's per-CPU area (through GS).
static inline uint32_t gs_read_u32(uint64_t off) {
    uint32_t v;
    __asm__ volatile("movl %%gs:(%1), %0" : "=r"(v) : "r"(off) : "memory");
    return v;
}
/// The 64-bit word at offset `off` of the running CPU's per-CPU area (through GS).
static inline uint64_t gs_read_u64(uint64_t off) {
    uint64_t v;
    __asm__ volatile("movq %%gs:(%1), %0" : "=r"(v) : "r"(off) : "memory");
    return v;
}

/// Loads a GDT at `base` (`limit` = bytes − 1) and reloads CS with the kernel code selector
/// 0x08 through a far return (the data selectors stay 0, as boot.S sets them).
static inline void load_gdt(uint64_t base, uint16_t limit) {
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } p = { limit, base };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq $0x08\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:" :: "m"(p) : "rax", "memory");
}

/// Volatile 32-bit load and store, for words another CPU or a device writes (MMIO, flags).
static inline uint32_t volatile_load_u32(uint64_t address) { return *(volatile uint32_t *)address; }
static inline void volatile_store_u32(uint64_t address, uint32_t v) { *(volatile uint32_t *)address = v; }

/// The spin-wait hint.
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

extern char boot_stack_top[], ap_stacks[];
/// The boot CPU's stack top, and AP `cpu`'s (1 … KMEM_MAX_CPUS − 1; boot.S AP_STACK_SIZE each).
static inline uint64_t boot_stack_top_address(void) { return (uint64_t)boot_stack_top; }
static inline uint64_t ap_stack_top(uint32_t cpu) { return (uint64_t)ap_stacks + (uint64_t)cpu * 32768; }

/// CPUID leaf `leaf` (subleaf 0): out[0…3] = EAX, EBX, ECX, EDX.
static inline void cpuid(uint32_t leaf, uint32_t out[4]) {
    __asm__ volatile("cpuid" : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3]) : "a"(leaf), "c"(0));
}

extern uint8_t kmem_pcp_bench[];
/// pcpbench='s words (src/PCPBench.swift).
static inline uint64_t pcp_bench_area(void) { return (uint64_t)(uintptr_t)kmem_pcp_bench; }
extern uint8_t kmem_smp_test[];
/// The words of the `locktest=` run (src/LockTest.swift), 64 bytes.
static inline uint8_t *smp_test_area(void) { return kmem_smp_test; }
extern uint8_t kmem_turns[];
/// The workload's turn words (src/Turns.swift), 64 bytes.
static inline uint64_t turn_area(void) { return (uint64_t)(uintptr_t)kmem_turns; }
/// Adds `v` to the u64 at `address` with `lock xadd`.
static inline void atomic_add_u64(uint64_t address, uint64_t v) { __atomic_fetch_add((uint64_t *)(uintptr_t)address, v, __ATOMIC_SEQ_CST); }
/// A compiler barrier: memory accesses are not moved across it (x86 orders them in hardware).
static inline void compiler_barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline uint64_t volatile_load_u64(uint64_t address) { return *(volatile uint64_t *)address; }
static inline void volatile_store_u64(uint64_t address, uint64_t v) { *(volatile uint64_t *)address = v; }
