/*
 * PVH entry, long mode and exception stubs for the kmemscope kernel.
 *
 * QEMU's `-kernel kernel.elf` finds the Xen PVH note and enters _start32 in 32-bit protected
 * mode, paging off, EBX = physical address of hvm_start_info. We build page tables that map
 *   - the kernel at KERNEL_VMA (0xffffffff80000000 + phys, first 1 GiB, 2 MiB pages),
 *   - all physical memory up to 64 GiB at DIRECT_MAP (0xffff888000000000 + phys),
 *   - an identity map of the first 1 GiB, only until we run in the higher half,
 * enable PAE, SSE and long mode, and call kmain(start_info_phys) on a 64 KiB stack.
 * Exceptions 0-31 print the vector, error code and registers (kernel_exception) and halt.
 */
    .set KERNEL_VMA, 0xFFFFFFFF80000000
    .set DIRECT_MAP_GIB, 64
    .set DIRECT_MAP_PML4_INDEX, 273      /* 0xffff888000000000 >> 39 & 511 */
    .set LAPIC_PD_INDEX, 2039            /* 0xFEE00000 >> 21: the local APIC's 2 MiB page */
    /* Application processors (src/SMP.swift): the real-mode trampoline is copied to
       AP_TRAMPOLINE (a page in the reserved first MiB; SIPI vector AP_TRAMPOLINE >> 12). */
    .set AP_TRAMPOLINE, 0x8000
    .set MAX_CPUS, 16
    .set AP_STACK_SIZE, 32768
    .set PERCPU_SIZE, 256
    .set TURNS_MODE, 48     /* kmem_turns + 48: 1 when the CPUs run free (smp=free), 0 turns */
    .if AP_STACK_SIZE != (1 << 15)
    .error "ap_start64 multiplies by AP_STACK_SIZE with a shift of 15"
    .endif

    .section .note.Xen, "a", @note
    .p2align 2
    .long 4                               /* namesz */
    .long 4                               /* descsz */
    .long 18                              /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long _start32 - KERNEL_VMA

    .section .boot.text, "ax", @progbits
    .code32
    .globl _start32
_start32:
    cli
    cld
    mov %ebx, (boot_info - KERNEL_VMA)
    mov $(boot_stack_top - KERNEL_VMA), %esp

    /* kernel / identity PD: 512 x 2 MiB from physical 0 */
    mov $(pd_kernel - KERNEL_VMA), %edi
    mov $0x83, %eax
    mov $512, %ecx
1:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 1b

    /* direct map PDs: DIRECT_MAP_GIB x 512 x 2 MiB */
    mov $(pd_direct - KERNEL_VMA), %edi
    xor %eax, %eax
    xor %edx, %edx
    mov $(DIRECT_MAP_GIB * 512), %ecx
2:  mov %eax, %ebx
    or $0x83, %ebx
    mov %ebx, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 2b

    /* the local APIC's registers through the direct map: uncached (PCD | PWT) */
    orl $0x18, (pd_direct - KERNEL_VMA + LAPIC_PD_INDEX * 8)

    mov $(pdpt_direct - KERNEL_VMA), %edi
    mov $(pd_direct - KERNEL_VMA + 3), %eax
    mov $DIRECT_MAP_GIB, %ecx
3:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $4096, %eax
    add $8, %edi
    loop 3b

    movl $(pd_kernel - KERNEL_VMA + 3), (pdpt_low - KERNEL_VMA)
    movl $(pd_kernel - KERNEL_VMA + 3), (pdpt_high - KERNEL_VMA + 510 * 8)
    movl $(pdpt_low - KERNEL_VMA + 3), (pml4 - KERNEL_VMA)
    movl $(pdpt_direct - KERNEL_VMA + 3), (pml4 - KERNEL_VMA + DIRECT_MAP_PML4_INDEX * 8)
    movl $(pdpt_high - KERNEL_VMA + 3), (pml4 - KERNEL_VMA + 511 * 8)
    /* The APs' first page table: the kernel's, plus the identity map of the first GiB the
       trampoline runs in while it turns paging on (pml4[0] is dropped below, ap_pml4[0] stays). */
    movl $(pdpt_low - KERNEL_VMA + 3), (ap_pml4 - KERNEL_VMA)
    movl $(pdpt_direct - KERNEL_VMA + 3), (ap_pml4 - KERNEL_VMA + DIRECT_MAP_PML4_INDEX * 8)
    movl $(pdpt_high - KERNEL_VMA + 3), (ap_pml4 - KERNEL_VMA + 511 * 8)

    /* CR4: PAE, OSFXSR, OSXMMEXCPT (the Swift stdlib uses SSE) */
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov $(pml4 - KERNEL_VMA), %eax
    mov %eax, %cr3
    /* EFER.LME */
    mov $0xC0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    wrmsr
    /* CR0: PG, PE, MP; clear EM */
    mov %cr0, %eax
    and $~(1 << 2), %eax
    or $((1 << 31) | (1 << 1) | 1), %eax
    mov %eax, %cr0
    lgdt (gdt_ptr32 - KERNEL_VMA)
    ljmp $0x08, $(start64_low - KERNEL_VMA)

    .code64
start64_low:
    movabs $start64_high, %rax
    jmp *%rax

    .text
start64_high:
    xor %eax, %eax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    movabs $boot_stack_top, %rsp
    lgdt gdt_ptr64(%rip)
    /* drop the identity map: a null pointer must fault */
    movq $0, pml4(%rip)
    mov %cr3, %rax
    mov %rax, %cr3
    call idt_init
    mov boot_info(%rip), %edi
    xor %ebp, %ebp
    call kmain
    .globl kernel_halt_forever
kernel_halt_forever:
    cli
    hlt
    jmp kernel_halt_forever

/* An AP arrives here from the trampoline, in long mode on ap_pml4, at the higher half. It
   loads the kernel's GDT, page table (no identity map) and IDT, finds its CPU number from
   its initial APIC ID (CPUID 1, EBX[31:24]) in cpu_apic_ids (filled by the BSP before the
   SIPI), takes ap_stacks slot N and calls ap_main(N). An APIC ID not in the table halts. */
ap_start64:
    lgdt gdt_ptr64(%rip)
    xor %eax, %eax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $(pml4 - KERNEL_VMA), %eax
    mov %rax, %cr3
    lidt idt_ptr(%rip)
    mov $1, %eax
    cpuid
    shr $24, %ebx
    lea cpu_apic_ids(%rip), %rsi
    mov $1, %ecx
1:  cmp $MAX_CPUS, %ecx
    jae kernel_halt_forever
    cmp (%rsi, %rcx, 4), %ebx
    je 2f
    inc %ecx
    jmp 1b
2:  lea ap_stacks(%rip), %rsp
    mov %rcx, %rax
    shl $15, %rax                   /* × AP_STACK_SIZE: slot N's top is ap_stacks + N × size */
    add %rax, %rsp
    mov %ecx, %edi
    xor %ebp, %ebp
    call ap_main
    jmp kernel_halt_forever

/* The AP trampoline: copied to AP_TRAMPOLINE, never run in place. An AP starts at its first
   byte in real mode (CS = AP_TRAMPOLINE >> 4, IP = 0), loads the GDT below (at its copy's
   physical address), enters protected mode, turns on PAE, long mode and paging with
   ap_pml4 (its physical address fits 32 bits: the kernel is loaded at 1 MiB), and jumps to
   ap_start64 in the higher half. */
    .code16
    .globl ap_trampoline_start
ap_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl (ap_gdt_ptr - ap_trampoline_start)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x18, $(AP_TRAMPOLINE + ap_trampoline32 - ap_trampoline_start)
    .code32
ap_trampoline32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov $(ap_pml4 - KERNEL_VMA), %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    wrmsr
    mov %cr0, %eax
    and $~(1 << 2), %eax
    or $((1 << 31) | (1 << 1) | 1), %eax
    mov %eax, %cr0
    ljmp $0x08, $(AP_TRAMPOLINE + ap_trampoline64 - ap_trampoline_start)
    .code64
ap_trampoline64:
    movabs $ap_start64, %rax
    jmp *%rax
    .p2align 3
ap_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 0x08: 64-bit code (the kernel's selector) */
    .quad 0x00CF92000000FFFF    /* 0x10: data */
    .quad 0x00CF9A000000FFFF    /* 0x18: 32-bit code, for the step out of real mode */
ap_gdt_ptr:
    .word 4 * 8 - 1
    .long AP_TRAMPOLINE + ap_gdt - ap_trampoline_start
    .globl ap_trampoline_end
ap_trampoline_end:

idt_init:
    lea idt(%rip), %rdi
    lea isr_table(%rip), %rsi
    xor %ecx, %ecx
1:  mov (%rsi, %rcx, 8), %rax
    mov %ax, (%rdi)
    movw $0x08, 2(%rdi)
    movw $0x8E00, 4(%rdi)
    shr $16, %rax
    mov %ax, 6(%rdi)
    shr $16, %rax
    mov %eax, 8(%rdi)
    movl $0, 12(%rdi)
    add $16, %rdi
    inc %ecx
    cmp $32, %ecx
    jne 1b
    lidt idt_ptr(%rip)
    ret

    .macro ISR_NOERR n
isr\n:
    pushq $0
    pushq $\n
    jmp isr_common
    .endm
    .macro ISR_ERR n
isr\n:
    pushq $\n
    jmp isr_common
    .endm

    ISR_NOERR 0
    ISR_NOERR 1
    ISR_NOERR 2
    ISR_NOERR 3
    ISR_NOERR 4
    ISR_NOERR 5
    ISR_NOERR 6
    ISR_NOERR 7
    ISR_ERR 8
    ISR_NOERR 9
    ISR_ERR 10
    ISR_ERR 11
    ISR_ERR 12
    ISR_ERR 13
    ISR_ERR 14
    ISR_NOERR 15
    ISR_NOERR 16
    ISR_ERR 17
    ISR_NOERR 18
    ISR_NOERR 19
    ISR_NOERR 20
    ISR_ERR 21
    ISR_NOERR 22
    ISR_NOERR 23
    ISR_NOERR 24
    ISR_NOERR 25
    ISR_NOERR 26
    ISR_NOERR 27
    ISR_NOERR 28
    ISR_ERR 29
    ISR_ERR 30
    ISR_NOERR 31

/* Frame for kernel_exception, from the lowest address: r15 … rax, vector, error, rip, cs, rflags, rsp, ss */
isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    and $~15, %rsp
    call kernel_exception
    jmp kernel_halt_forever

/* The Swift runtime's heap entry points, served by the kernel's slab heap (Heap.swift);
   Swift reserves these names, so they are defined here. */
    .globl posix_memalign
posix_memalign:
    jmp kmem_runtime_memalign
    .globl free
free:
    jmp kmem_runtime_free

/* Called by the allocator each time KmemState.busy returns to 0 (an operation boundary).
   A bare ret in its own object, so no optimiser can drop or inline the call: a debugger
   that stopped the guest inside an operation breaks here to reach the boundary. */
    .globl kmem_op_end
    .type kmem_op_end, @function
kmem_op_end:
    ret
    .size kmem_op_end, . - kmem_op_end

/* A ticket lock's waiter every 4,096 spins (mm/TicketLock.swift): under single-threaded TCG a
   `pause` hands the host thread to the next vCPU, so the lock's holder runs. */
    .globl kmem_spin_pause
    .type kmem_spin_pause, @function
kmem_spin_pause:
    pause
    ret
    .size kmem_spin_pause, . - kmem_spin_pause

/* Where the kernel stops after a BUG (src/Bug.swift, once kmem_bug is written): a function of
   its own, so a debugger that finds RIP in it knows the kernel stopped itself. Never returns. */
    .globl kmem_bug_halt
    .type kmem_bug_halt, @function
kmem_bug_halt:
    cli
    hlt
    jmp kmem_bug_halt
    .size kmem_bug_halt, . - kmem_bug_halt

/* Where a parked AP stays (src/SMP.swift ap_main, after its state word says parked): a function
   of its own, so a debugger that finds an AP's RIP in it knows the AP touches nothing. */
    .globl ap_park
    .type ap_park, @function
ap_park:
    cli
    hlt
    jmp ap_park
    .size ap_park, . - ap_park

/* The running CPU's number for kernel/mm (PageAllocator.currentCPU): %gs:8 of its per-CPU
   area (src/PerCPU.swift), loaded on every CPU before the allocator boots. */
    .globl kmem_current_cpu
    .type kmem_current_cpu, @function
kmem_current_cpu:
    movl %gs:8, %eax
    ret
    .size kmem_current_cpu, . - kmem_current_cpu

/* The interrupt flag for kernel/mm (IrqDisabledToken.swift). */
    .globl kmem_irq_save
kmem_irq_save:                  /* returns RFLAGS, then IF = 0 */
    pushfq
    pop %rax
    cli
    ret
    .globl kmem_irq_restore
kmem_irq_restore:               /* IF = 1 again when the saved RFLAGS (rdi) had it */
    test $0x200, %edi
    jz 1f
    sti
1:  ret

/* memset, memcpy, memmove: what the Swift runtime and stdlib call. */
    .globl memset
memset:
    mov %rdi, %r9
    mov %esi, %eax
    mov %rdx, %rcx
    rep stosb
    mov %r9, %rax
    ret
    .globl memcpy
memcpy:
    mov %rdi, %rax
    mov %rdx, %rcx
    rep movsb
    ret
    .globl memmove
memmove:
    mov %rdi, %rax
    mov %rdx, %rcx
    cmp %rsi, %rdi
    jbe 1f
    lea (%rsi, %rdx), %r8
    cmp %r8, %rdi
    jae 1f
    lea -1(%rsi, %rdx), %rsi
    lea -1(%rdi, %rdx), %rdi
    std
    rep movsb
    cld
    ret
1:  rep movsb
    ret

    .section .rodata
    .p2align 3
isr_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad isr\n
    .endr

    .section .data
    .p2align 3
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10: data */
gdt_end:
gdt_ptr32:
    .word gdt_end - gdt - 1
    .long gdt - KERNEL_VMA
    .p2align 3
gdt_ptr64:
    .word gdt_end - gdt - 1
    .quad gdt
idt_ptr:
    .word 32 * 16 - 1
    .quad idt
    .globl boot_info
boot_info:
    .quad 0
/* A debugger writes a sequence number here; the kernel calls kmem_checkpoint as soon as its
   operation sequence reaches it, then clears it. */
    .globl kmem_stop_seq
    .type kmem_stop_seq, @object
    .size kmem_stop_seq, 8
kmem_stop_seq:
    .quad 0
/* The number of CPUs running the kernel (1 until the APs are up), and the per-CPU areas
   (PERCPU_SIZE bytes each, CPU N at kmem_percpu + N × PERCPU_SIZE; src/PerCPU.swift). */
    .globl kmem_cpus
    .type kmem_cpus, @object
    .size kmem_cpus, 8
kmem_cpus:
    .quad 1
/* Initial APIC ID of CPU N (the BSP writes it before starting the AP; ~0 = none). */
    .globl cpu_apic_ids
cpu_apic_ids:
    .fill MAX_CPUS, 4, 0xFFFFFFFF

    .section .bss
    .p2align 12
pml4:        .skip 4096
pdpt_low:    .skip 4096
pdpt_high:   .skip 4096
pdpt_direct: .skip 4096
pd_kernel:   .skip 4096
pd_direct:   .skip 4096 * DIRECT_MAP_GIB
idt:         .skip 16 * 32
/* The BUG record (kernel/mm/BugRecord.swift): zero until the kernel stops at a BUG. */
    .p2align 6
    .globl kmem_bug
    .type kmem_bug, @object
    .size kmem_bug, 256
kmem_bug:    .skip 256
/* The layout descriptor (see kernel/mm/LayoutDescriptor.swift), filled at boot. */
    .p2align 6
    .globl kmem_info
    .type kmem_info, @object
    .size kmem_info, 16384
kmem_info:   .skip 16384
    .p2align 6
    .globl kmem_percpu
    .type kmem_percpu, @object
    .size kmem_percpu, PERCPU_SIZE * MAX_CPUS
kmem_percpu: .skip PERCPU_SIZE * MAX_CPUS
    .globl kmem_smp_test
kmem_smp_test: .skip 64
/* pcpbench= (src/PCPBench.swift): +0 K, +8 the CPUs of the round, +16 the round's number, +24 1 once
   every round is done, +32 CPUs that started the round, +40 CPUs that ended it, +64 + 8c CPU c's
   TSC ticks for its K pairs. */
    .p2align 6
    .globl kmem_pcp_bench
kmem_pcp_bench: .skip 64 + 8 * MAX_CPUS
/* The workload's turns (src/Turns.swift, kernel/README.md "Workload"): +0 the CPU whose turn it
   is, +8 1 once the workload runs on every CPU, +16 1 once it has finished, +24 the APs that
   have left their turns, +32 the shared run's address, +40 turnstall='s CPU, +48 (TURNS_MODE) 1 when
   the CPUs run free (smp=free), 0 when they take turns. */
    .p2align 6
    .globl kmem_turns
    .type kmem_turns, @object
    .size kmem_turns, 64
kmem_turns:  .skip 64
/* The per-CPU page caches (kernel/mm/PerCPUPages.swift): MAX_CPUS rows of 3 zones of 136
   bytes (the last 8 the entry's lock), CPU c's cache of zone z at kmem_pcp + (c × 3 + z) × 136
   (kernel/README.md "Per-CPU caches"). */
    .p2align 6
    .globl kmem_pcp
    .type kmem_pcp, @object
    .size kmem_pcp, 136 * 3 * MAX_CPUS
kmem_pcp:    .skip 136 * 3 * MAX_CPUS
/* Each CPU's in-operation row (kernel/mm/CPUOperation.swift): MAX_CPUS rows of 64 bytes, +0 busy,
   +8 parentSequence (kernel/README.md "Operations in progress"). */
    .p2align 6
    .globl kmem_cpu_ops
    .type kmem_cpu_ops, @object
    .size kmem_cpu_ops, 64 * MAX_CPUS
kmem_cpu_ops: .skip 64 * MAX_CPUS
    .p2align 12
ap_pml4:     .skip 4096
/* AP stacks: CPU N (1 … MAX_CPUS-1) runs on [ap_stacks + (N-1) × size, ap_stacks + N × size). */
    .globl ap_stacks
ap_stacks:   .skip AP_STACK_SIZE * (MAX_CPUS - 1)
    .p2align 4
boot_stack:  .skip 65536
    .globl boot_stack_top
boot_stack_top:
