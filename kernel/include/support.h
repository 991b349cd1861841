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

extern volatile uint64_t kmem_stop_seq;
/// The sequence number a debugger asked to stop at (0 = none).
static inline uint64_t stop_sequence(void) { return kmem_stop_seq; }
static inline void clear_stop_sequence(void) { kmem_stop_seq = 0; }
static inline uint64_t stop_sequence_address(void) { return (uint64_t)&kmem_stop_seq; }

/// A read the compiler cannot drop (for crash=pagefault).
static inline uint64_t volatile_read_u64(uint64_t address) { return *(volatile uint64_t *)address; }

/// Boot identity (kmem_info BOOT_ID): the time-stamp counter, and RDRAND when the CPU has it
/// (CPUID.1:ECX bit 30; QEMU's default TCG CPU does not).
static inline uint64_t read_tsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline int cpu_has_rdrand(void) { uint32_t a = 1, b, c = 0, d; __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d)); return (int)((c >> 30) & 1); }
static inline int rdrand64(uint64_t *out) { unsigned char ok; __asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok)); return ok; }
