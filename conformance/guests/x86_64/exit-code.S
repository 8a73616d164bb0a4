/* exit-code: prints which reason it will shut down with, then shuts down with it. REASON is set by build.sh. */
        .section .text
        .globl guest_main
guest_main:
        mov $0, %edi
        mov $msg_end - msg, %esi
        lea msg(%rip), %rdx
        call hypercall_page + 18 * 32
        mov $REASON, %eax
        ret

        .section .rodata
msg:    .ascii "shutting down with reason "
        .byte '0' + REASON
        .ascii "\n"
msg_end:
