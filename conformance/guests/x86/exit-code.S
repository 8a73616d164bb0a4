/* exit-code: prints which reason it will shut down with, then shuts down with it. REASON is set by build.sh. */
        .section .text
        .globl guest_main
guest_main:
        push %ebx
        mov $0, %ebx
        mov $msg_end - msg, %ecx
        mov $msg, %edx
        call hypercall_page + 18 * 32
        pop %ebx
        mov $REASON, %eax
        ret

        .section .rodata
msg:    .ascii "shutting down with reason "
        .byte '0' + REASON
        .ascii "\n"
msg_end:
