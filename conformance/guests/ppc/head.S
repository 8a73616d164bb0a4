/*
 * Common start of hvkit's 64-bit PowerPC test guests (abi/ppc.md): the optional Xen ELF
 * notes, a 16 KiB stack, and _start, the entry (code, not an ELFv1 function descriptor:
 * the domain enters it in real mode with MSR = SF, r3 = the device tree). _start sets
 * MSR[FP] (hard-float code needs it; RI stays 0, so any interrupt crashes the domain),
 * takes its own stack with an empty back chain, fills start_info from the device tree
 * (start-info.c), and calls `guest_main` through its ELFv1
 * descriptor (entry and TOC); if that returns, the guest shuts down with its return value
 * as reason: sched_op(SCHEDOP_shutdown, inline xencomm handle of the reason).
 */
#include "xen-notes.h"

        .section .bss
        .p2align 12
stack:  .skip 16384
stack_top:

        .section .data
        .p2align 3
        .globl device_tree
device_tree: .quad 0
reason: .long 0

        .section .text.head, "ax", @progbits
        .globl _start
_start:
        lis 9, device_tree@h
        ori 9, 9, device_tree@l
        std 3, 0(9)
        mfmsr 0
        ori 0, 0, 0x2000                /* MSR[FP] */
        mtmsrd 0
        lis 1, stack_top@h
        ori 1, 1, stack_top@l
        addi 1, 1, -112                 /* one ELFv1 frame */
        li 0, 0
        std 0, 0(1)
        lis 12, start_info_init@h       /* start_info_init(r3 = the device tree) */
        ori 12, 12, start_info_init@l
        ld 0, 0(12)
        ld 2, 8(12)
        mtctr 0
        bctrl
        lis 12, guest_main@h            /* the descriptor: entry, TOC */
        ori 12, 12, guest_main@l
        ld 0, 0(12)
        ld 2, 8(12)
        mtctr 0
        bctrl
        lis 9, reason@h
        ori 9, 9, reason@l
        stw 3, 0(9)
        li 5, 1
        sldi 5, 5, 63                   /* XENCOMM_INLINE_FLAG */
        or 5, 5, 9
        li 4, 2                         /* SCHEDOP_shutdown */
        lis 3, -1
        ori 3, 3, 29                    /* XEN_MARK | sched_op */
        sc 1
1:      b 1b
