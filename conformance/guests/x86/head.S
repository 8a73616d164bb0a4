/*
 * Common start of hvkit's x86 (32-bit PAE PV) test guests: the Xen ELF notes (PAE_MODE
 * "yes": Xen runs 32-bit PV guests only with PAE paging), the hypercall page (filled with
 * `ret` so an untouched page is detectable), a 16 KiB stack, and _start, which saves
 * start_info (esi) in `start_info_ptr`, moves to its own stack (16-byte aligned, as the
 * i386 psABI gcc follows expects at a call) and calls `guest_main`; if that returns, the
 * guest shuts down with its return value as reason.
 * Note numbers: xen/include/public/elfnote.h. Entry state (esi = start_info, ring 1,
 * FLAT_RING1_CS): xen/include/public/xen.h "Start-of-day memory layout" and
 * arch-x86/xen-x86_32.h.
 */
#include "xen-notes.h"
ELFNOTE(2, .long hypercall_page)            /* HYPERCALL_PAGE */
ELFNOTE(9, .asciz "yes")                    /* PAE_MODE */
ELFNOTE(10, .asciz "!writable_page_tables|pae_pgdir_above_4gb") /* FEATURES */

        .section .page_aligned, "aw", @progbits
        .p2align 12
        .globl hypercall_page
hypercall_page:
        .fill 4096, 1, 0xc3

        .section .bss
        .p2align 12
        .globl stack
stack:  .skip 16384
stack_top:

        .section .data
        .globl start_info_ptr
start_info_ptr: .long 0

        .section .text.head, "ax", @progbits
        .globl _start
_start:
        mov %esi, start_info_ptr
        mov $stack_top, %esp
        call guest_main
        /* shutdown(reason = return value): sched_op(SCHEDOP_shutdown, &reason) */
        sub $16, %esp
        mov %eax, (%esp)
        mov $2, %ebx
        mov %esp, %ecx
        call hypercall_page + 29 * 32
1:      jmp 1b
