/*
 * Trap entry points for the 32-bit traps guest. Xen's compat bounce frame on the kernel
 * stack (xen/arch/x86/x86_64/compat/entry.S, compat_create_bounce_frame) is
 * [error code], eip, cs, eflags for a trap taken in ring 1; each entry pushes a dummy
 * error code where the CPU has none, then the vector, saves the registers and calls
 * trap_handler(struct regs *). It returns with the iret hypercall: with eip, cs, eflags on
 * the stack, jump to stub 23, which pushes eax (compat_iret pops eax, eip, cs, eflags).
 */
.macro ENTRY_NOEC name vec
        .globl \name
\name:  push $0
        push $\vec
        jmp common
.endm
.macro ENTRY_EC name vec
        .globl \name
\name:  push $\vec
        jmp common
.endm

        .text
ENTRY_NOEC entry_BP 3
ENTRY_NOEC entry_UD 6
ENTRY_EC   entry_GP 13
ENTRY_EC   entry_PF 14
ENTRY_NOEC entry_x20 0x20

common:
        pushal
        push %esp
        call trap_handler
        add $4, %esp
        popal
        add $8, %esp                    /* vector, error code */
        jmp hypercall_page + 23 * 32
