/* fault-no-handler: prints a line, then executes ud2 with no trap table: the domain must crash. */
        .section .text
        .globl guest_main
guest_main:
        mov $0, %ebx
        mov $msg_end - msg, %ecx
        mov $msg, %edx
        call hypercall_page + 18 * 32
        ud2
        mov $0, %eax                    /* never reached: would power off */
        ret

        .section .rodata
msg:    .ascii "about to execute ud2 without a trap table\n"
msg_end:
