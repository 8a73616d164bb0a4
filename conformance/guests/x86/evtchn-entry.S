/*
 * Event upcall entry for the 32-bit evtchn guests. Xen's compat bounce frame for an event
 * (no error code) is eip, cs, eflags: save the registers, call evtchn_upcall(), and return
 * with the iret hypercall (stub 23 pushes eax; compat_iret restores the upcall mask from
 * the frame's eflags.IF).
 */
        .text
        .globl entry_event
entry_event:
        pushal
        call evtchn_upcall
        popal
        jmp hypercall_page + 23 * 32
