/*
 * Start of the 32-bit x86 bench kernels booted by a multiboot loader (v86, for
 * bench/c-guests.ts): the Multiboot 0.6.96 header (magic 0x1BADB002, no flags: the ELF's
 * own program headers say where to load; checksum making the three words sum to 0), a
 * 64 KiB stack, and _start. A multiboot loader enters in 32-bit protected mode with flat
 * segments, paging and interrupts off, eax = 0x2BADB002 and ebx = the multiboot info
 * (Multiboot Specification 0.6.96, 3.2 "Machine state"). _start turns on the FPU and SSE
 * as an OS does (CR0.EM clear, CR0.MP and CR0.NE set; CR4.OSFXSR and CR4.OSXMMEXCPT set,
 * Intel SDM vol. 3A 13.1.3), resets the x87 unit (fninit: FCW 0x37f, the control word a
 * PV guest and a Linux program start with) and calls multiboot_main(magic, info).
 */
        .section .text.head, "ax", @progbits
        .p2align 2
multiboot_header:
        .long 0x1badb002
        .long 0
        .long -0x1badb002

        .section .bss
        .p2align 4
stack:  .skip 65536
stack_top:

        .section .text.head, "ax", @progbits
        .globl _start
_start:
        mov $stack_top, %esp
        mov %cr0, %ecx
        and $~0x4, %ecx                 /* EM */
        or $0x22, %ecx                  /* MP, NE */
        mov %ecx, %cr0
        mov %cr4, %ecx
        or $0x600, %ecx                 /* OSFXSR, OSXMMEXCPT */
        mov %ecx, %cr4
        fninit
        sub $8, %esp                    /* two arguments, 16-byte aligned at the call */
        push %ebx
        push %eax
        call multiboot_main
1:      cli
        hlt
        jmp 1b
