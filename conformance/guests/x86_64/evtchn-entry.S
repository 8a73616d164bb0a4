/*
 * Event upcall entry for the evtchn guests. Xen's bounce frame for an event (no error
 * code) is rcx, r11, rip, cs, rflags, rsp, ss: restore rcx/r11, save the caller-saved
 * registers, call evtchn_upcall(), and return with the iret hypercall (flags 0), which
 * also restores the upcall mask saved in the frame.
 */
        .text
        .globl entry_event
entry_event:
        pop %rcx
        pop %r11
        push %rax
        push %rcx
        push %rdx
        push %rsi
        push %rdi
        push %r8
        push %r9
        push %r10
        push %r11
        call evtchn_upcall
        pop %r11
        pop %r10
        pop %r9
        pop %r8
        pop %rdi
        pop %rsi
        pop %rdx
        pop %rcx
        pop %rax
        push $0                         /* iret flags */
        jmp hypercall_page + 23 * 32
