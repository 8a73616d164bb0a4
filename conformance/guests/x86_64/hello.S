/* hello: console_io write, then shutdown(poweroff). Pure assembly, direct stubs. */
        .section .text
        .globl guest_main
guest_main:
        mov $0, %edi                    /* CONSOLEIO_write */
        mov $msg_end - msg, %esi
        lea msg(%rip), %rdx
        call hypercall_page + 18 * 32   /* console_io */
        xor %eax, %eax                  /* SHUTDOWN_poweroff */
        ret

        .section .rodata
msg:    .ascii "Hello from an hvkit x86_64 PV guest\n"
msg_end:
