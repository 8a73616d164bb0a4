/*
 * Common start of hvkit's x86_64 PV test guests: the Xen ELF notes, the hypercall page
 * (filled with `ret` so an untouched page is detectable), a 16 KiB stack, and _start,
 * which saves start_info (rsi) in `start_info_ptr`, moves to its own stack and calls
 * `guest_main`; if that returns, the guest shuts down with its return value as reason.
 */
#include "xen-notes.h"
ELFNOTE(2, .quad hypercall_page)            /* HYPERCALL_PAGE */
ELFNOTE(10, .asciz "!writable_page_tables") /* FEATURES */

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
start_info_ptr: .quad 0

        .section .text.head, "ax", @progbits
        .globl _start
_start:
        mov %rsi, start_info_ptr(%rip)
        lea stack_top(%rip), %rsp
        call guest_main
        /* shutdown(reason = return value) */
        sub $16, %rsp
        mov %eax, (%rsp)
        mov $2, %edi
        mov %rsp, %rsi
        call hypercall_page + 29 * 32
1:      jmp 1b
