/* hello: console_io write, then shutdown(poweroff). Pure assembly, direct stubs. */
        .section .text
        .globl guest_main
guest_main:
        push %ebx
        mov $0, %ebx                    /* CONSOLEIO_write */
        mov $msg_end - msg, %ecx
        mov $msg, %edx
        call hypercall_page + 18 * 32   /* console_io */
        pop %ebx
        xor %eax, %eax                  /* SHUTDOWN_poweroff */
        ret

        .section .rodata
msg:    .ascii "Hello from an hvkit x86 PV guest\n"
msg_end:
