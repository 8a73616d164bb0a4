/*
 * hvkit's conformance guest agent for IA-64 PV guests (see docs/guest-agent.md): boots as
 * an IA-64 kernel in metaphysical mode, installs its interruption vector table, turns on
 * interruption collection, registers its event callback, maps shared_info, then serves the
 * host's requests from its per-vCPU mailbox, handing control back with the kernel service
 * call.
 *
 * Xen facts (Xen's IA-64 port, 3.1 - 4.1: arch-ia64.h, arch/ia64/xen/{hypercall.c,
 * faults.c,vcpu.c,domain.c}; the guest side of Linux's xensetup.S and Mini-OS's ia64.S,
 * which this follows):
 * - Entry: iip = e_entry in metaphysical mode (guest-physical addresses), virtual PSR
 *   ic = i = 0, bn = 1; r28 = ia64_boot_param, which the builder puts right after
 *   start_info (sizeof(start_info) = 1168) in the page after the image; CFM empty; ar.rsc
 *   mode 0 (enforced lazy).
 * - Hypercalls: `break 0x1000` with r2 = the number and the arguments in the output area
 *   of the current frame (r32.. in a frame with no locals); result in r8. Firmware calls
 *   (r2 >= 0x100) take static registers: SET_SHARED_INFO_VA (0x600) maps shared_info at
 *   r28, a region 7, 64 KiB aligned address outside Xen's (Xen pins it with a translation
 *   register, so it is reachable in metaphysical mode too, which only covers region 0).
 * - Privileged instructions of the virtual cpl 0 kernel (mov to/from cr.*, ssm/rsm, rfi)
 *   fault to Xen, which emulates them on the virtual PSR and interruption registers.
 * - An interruption is reflected to virtual cr.iva + its vector offset with virtual
 *   ic = 0, bank 0 and events masked, the interrupted psr/iip and isr/ifa/iim in the
 *   virtual cr.ipsr/iip/isr/ifa/iim; if virtual ic was already 0 (anything but a data TLB
 *   class fault), Xen crashes the domain. Events go to the callback registered with
 *   callback_op(CALLBACKOP_register, CALLBACKTYPE_event) the same way (faults.c
 *   reflect_event); the guest returns with rfi, whose ipsr.i = 1 unmasks events again
 *   (virtual psr.i is !vcpu_info.evtchn_upcall_mask).
 * - Guest pointers are inline xencomm handles: guest-physical address | 1 << 63.
 *
 * Registers: r4 = this vCPU's mailbox, r5 = its vCPU id, r6 = the base of its register
 * stack backing store, r7 = ia64_boot_param (vCPU 0); r4-r7 are preserved across
 * hypercalls (the Linux system-call convention Xen's entry follows). r12 is the memory
 * stack. The main code runs in register bank 1 with a frame of 7 outputs and no locals
 * (so out0-out5 = r32-r37 are the hypercall arguments); the interruption handlers use
 * only bank 0's r16-r31 and save the predicates they touch. The mailbox offsets are
 * AGENT_MAILBOX's (core/src/agent.ts); its fields are little-endian u64.
 *
 * Requests:
 *   Hypercall, HypercallDirect (the same: IA-64 has no hypercall page): r2 = args[0],
 *     out0-out5 = args[1..6]. Firmware calls that take static registers cannot be made
 *     this way.
 *   Read, Write: ld8/st8, ld4/st4 or ld1/st1 by the width rule (metaphysical addresses).
 *   Timestamp: ar.itc. Illegal: a bundle with the reserved template 0x1f (Illegal
 *     Operation fault, General Exception vector 0x5400, isr.code 0).
 *   Before each request, when the word at boot.arch[0] (`traps_off`) is not 0, the agent
 *     executes `rsm psr.ic`, so that the next interruption has no handler (Xen crashes
 *     the domain); the host's disarmTraps writes it.
 * Traps: every vector of the IVT records trap[0] = its offset (0x5400 ...), trap[1] =
 *   cr.isr, trap[2] = cr.iim for a break (0x2c00), else cr.ifa, trap[3] = cr.iip (the
 *   bundle; the slot is isr.ei), then returns with rfi to a fresh register stack, the
 *   interrupted PSR (interruption collection on, bank 1) and serves.
 * Upcalls: the event callback adds 1 to `upcalls`, clears the byte at `vcpu_info` and
 *   returns with rfi.
 * Secondary vCPUs enter `ap_entry` (metaphysical mode, virtual bank 1) with r8 = their
 *   vCPU id.
 */
        .set MB_MAGIC,        0
        .set MB_VERSION,      8
        .set MB_VCPU,         16
        .set MB_OP,           24
        .set MB_ARG0,         32
        .set MB_ARG1,         40
        .set MB_RESULT,       88
        .set MB_STATUS,       96
        .set MB_TRAP_VECTOR,  104
        .set MB_UPCALLS,      136
        .set MB_VCPU_INFO,    144
        .set MB_STACK_TOP,    152
        .set MB_START_INFO,   168
        .set MB_SHARED_INFO,  176
        .set MB_HCALL_PAGE,   184
        .set MB_SCRATCH,      192
        .set MB_SCRATCH_LEN,  200
        .set MB_WINDOW,       208
        .set MB_WINDOW_LEN,   216
        .set MB_AP_ENTRY,     224
        .set MB_COUNT,        232
        .set MB_BOOT_ARG,     240
        .set MB_ARCH0,        248
        .set MB_ARCH1,        256
        .set MB_ARCH2,        264
        .set MB_DATA,         512

        .set OP_HYPERCALL,    1
        .set OP_READ,         2
        .set OP_WRITE,        3
        .set OP_TIMESTAMP,    4
        .set OP_ILLEGAL,      5
        .set OP_HCALL_DIRECT, 6

        .set STATUS_DONE,     0
        .set STATUS_TRAPPED,  1
        .set STATUS_BAD,      2

        .set NR_VCPUS,        8
        .set STACK_SHIFT,     14              /* 16 KiB memory stack per vCPU */
        .set RBS_SHIFT,       14              /* 16 KiB register backing store per vCPU */
        .set SCRATCH_BYTES,   0x40000         /* room for several 22 KiB vCPU contexts */
        .set MAX_VIRT_CPUS,   64              /* legacy vcpu_info slots in shared_info */
        .set START_INFO_BYTES, 1168           /* ia64_boot_param follows start_info */

        .set SERVICE_CALL,    63
        .set HC_callback_op,  30
        .set CALLBACKOP_register, 0
        .set FW_SET_SHARED_INFO_VA, 0x600
        .set XSI_BASE,        0xfffffffffff00000  /* shared_info's address (Mini-OS's) */
        .set BREAK_VECTOR,    0x2c00

        .macro ELFNOTE type, body:vararg
        .pushsection .note.Xen, "a", @note
        .align 4
        data4 4, 2f - 1f, \type
        stringz "Xen"
        .align 4
1:      \body
2:      .align 4
        .popsection
        .endm

        ELFNOTE 6, stringz "hvkit-agent"    /* GUEST_OS */
        ELFNOTE 7, stringz "1"              /* GUEST_VERSION */
        ELFNOTE 8, stringz "generic"        /* LOADER */
        ELFNOTE 5, stringz "xen-3.0"        /* XEN_VERSION */

/*
 * Discards the whole register stack and restarts it empty at r6: a zero-sized frame
 * (loadrs needs one), RSE in enforced lazy mode keeping its privilege level and
 * loadrs = 0, loadrs, the new bspstore; then the agent's frame of 7 outputs.
 */
        .macro RSE_RESET
        alloc r14 = ar.pfs, 0, 0, 0, 0
        ;;
        mov r15 = ar.rsc
        ;;
        and r15 = 0xc, r15
        ;;
        mov ar.rsc = r15
        ;;
        loadrs
        ;;
        mov ar.bspstore = r6
        ;;
        alloc r14 = ar.pfs, 0, 0, 7, 0
        ;;
        .endm

        .text
        .globl _start
_start:
        /* Once per domain: ia64_boot_param (r28) kept in r7, shared_info mapped. */
        mov r7 = r28
        mov r2 = FW_SET_SHARED_INFO_VA
        movl r28 = XSI_BASE
        ;;
        break 0x1000
        ;;
        mov r5 = 0
        br.sptk.many vcpu_start
        ;;

/* A secondary vCPU, started by VCPUOP_initialise with r8 = its id. */
        .globl ap_entry
ap_entry:
        mov r5 = r8
        ;;

/*
 * Sets up vCPU r5: mailbox (r4), register stack (r6), memory stack (r12), the mailbox's
 * fixed words, the IVT, interruption collection and the event callback; then vCPU 0
 * writes the boot report and every vCPU reports for its first request.
 */
vcpu_start:
        movl r4 = mailboxes
        movl r6 = rbs
        movl r12 = stacks
        shl r14 = r5, 12
        shl r15 = r5, RBS_SHIFT
        adds r16 = 1, r5
        ;;
        add r4 = r4, r14
        add r6 = r6, r15
        shl r16 = r16, STACK_SHIFT
        ;;
        add r12 = r12, r16
        ;;
        adds r12 = -16, r12                 /* the ABI's 16-byte scratch area */
        RSE_RESET
        movl r14 = 0x48564b4147454e54       /* "HVKAGENT" */
        mov r15 = 1
        ;;
        st8 [r4] = r14                      /* magic */
        adds r16 = MB_VERSION, r4
        adds r17 = MB_VCPU, r4
        adds r18 = MB_STACK_TOP, r4
        ;;
        st8 [r16] = r15
        st8 [r17] = r5
        ;;
        st8 [r18] = r12
        movl r14 = XSI_BASE
        shladd r15 = r5, 1, r5              /* id * 3 */
        cmp.ltu p6, p0 = MAX_VIRT_CPUS - 1, r5
        ;;
        shl r15 = r15, 4                    /* id * 48 = id * sizeof(vcpu_info) */
        ;;
        add r14 = r14, r15
        adds r16 = MB_VCPU_INFO, r4
        ;;
(p6)    mov r14 = 0                         /* no legacy vcpu_info slot */
        ;;
        st8 [r16] = r14

        movl r14 = ivt
        ;;
        mov cr.iva = r14
        ;;
        srlz.i
        ;;
        ssm psr.ic                          /* the IVT is live */
        ;;
        srlz.i
        ;;
        mov r2 = HC_callback_op
        mov out0 = CALLBACKOP_register
        movl out1 = cb_event
        ;;
        dep out1 = -1, out1, 63, 1          /* inline xencomm handle */
        ;;
        break 0x1000
        ;;
        cmp.eq p6, p0 = 0, r5
(p6)    br.cond.sptk.many boot_report
        br.sptk.many report
        ;;

/* vCPU 0's boot report. */
boot_report:
        adds r14 = MB_START_INFO, r4
        adds r15 = -START_INFO_BYTES, r7
        ;;
        st8 [r14] = r15, MB_SHARED_INFO - MB_START_INFO
        movl r15 = XSI_BASE
        ;;
        st8 [r14] = r15, MB_HCALL_PAGE - MB_SHARED_INFO
        ;;
        st8 [r14] = r0, MB_SCRATCH - MB_HCALL_PAGE      /* no hypercall page */
        movl r15 = scratch
        ;;
        st8 [r14] = r15, MB_SCRATCH_LEN - MB_SCRATCH
        movl r15 = SCRATCH_BYTES
        ;;
        st8 [r14] = r15, MB_WINDOW - MB_SCRATCH_LEN
        ;;
        st8 [r14] = r0, MB_WINDOW_LEN - MB_WINDOW       /* no remappable window */
        ;;
        st8 [r14] = r0, MB_AP_ENTRY - MB_WINDOW_LEN
        movl r15 = ap_entry
        ;;
        st8 [r14] = r15, MB_COUNT - MB_AP_ENTRY
        mov r15 = NR_VCPUS
        ;;
        st8 [r14] = r15, MB_BOOT_ARG - MB_COUNT
        ;;
        st8 [r14] = r7, MB_ARCH0 - MB_BOOT_ARG
        movl r15 = traps_off
        ;;
        st8 [r14] = r15, MB_ARCH1 - MB_ARCH0
        movl r15 = ivt
        ;;
        st8 [r14] = r15, MB_ARCH2 - MB_ARCH1
        movl r15 = entry_event
        ;;
        st8 [r14] = r15
        br.sptk.many report
        ;;

/* The request loop. */
done:
        adds r14 = MB_RESULT, r4
        ;;
        st8 [r14] = r8
report:
        adds r14 = MB_STATUS, r4
        ;;
        st8 [r14] = r0                      /* STATUS_DONE */
serve:
        mov r2 = SERVICE_CALL
        mov out0 = r4
        ;;
        break 0x1000
        ;;
        movl r14 = traps_off
        ;;
        ld8 r14 = [r14]
        ;;
        cmp.eq p6, p0 = 0, r14
(p6)    br.cond.sptk.many 1f
        ;;
        rsm psr.ic                          /* no handler for the next interruption */
        ;;
        srlz.i
        ;;
1:      adds r14 = MB_OP, r4
        ;;
        ld8 r14 = [r14]
        ;;
        cmp.eq p6, p0 = OP_HYPERCALL, r14
        cmp.eq p7, p0 = OP_HCALL_DIRECT, r14
        cmp.eq p8, p0 = OP_READ, r14
        cmp.eq p9, p0 = OP_WRITE, r14
        cmp.eq p10, p0 = OP_TIMESTAMP, r14
        cmp.eq p11, p0 = OP_ILLEGAL, r14
        ;;
(p6)    br.cond.sptk.many op_hypercall
(p7)    br.cond.sptk.many op_hypercall
        ;;
(p8)    br.cond.sptk.many op_read
(p9)    br.cond.sptk.many op_write
        ;;
(p10)   br.cond.sptk.many op_timestamp
(p11)   br.cond.sptk.many op_illegal
        ;;
        adds r14 = MB_STATUS, r4
        mov r15 = STATUS_BAD
        ;;
        st8 [r14] = r15
        br.sptk.many serve
        ;;

op_hypercall:
        adds r14 = MB_ARG0, r4
        adds r15 = MB_ARG1, r4
        ;;
        ld8 r2 = [r14], 16                  /* args[0]: the number */
        ld8 out0 = [r15], 16
        ;;
        ld8 out1 = [r14], 16
        ld8 out2 = [r15], 16
        ;;
        ld8 out3 = [r14], 16
        ld8 out4 = [r15]
        ;;
        ld8 out5 = [r14]
        ;;
        break 0x1000
        ;;
        br.sptk.many done
        ;;

/* r14 = source, r15 = destination, r16 = length. */
op_read:
        adds r14 = MB_ARG0, r4
        adds r15 = MB_DATA, r4
        ;;
        ld8 r14 = [r14]
        br.sptk.many copy
        ;;
op_write:
        adds r14 = MB_DATA, r4
        adds r15 = MB_ARG0, r4
        ;;
        ld8 r15 = [r15]
        ;;
/* Copies 8 or 4 bytes at a time when source, destination and length all allow. */
copy:
        adds r16 = MB_ARG1, r4
        ;;
        ld8 r16 = [r16]
        ;;
        or r17 = r14, r15
        ;;
        or r17 = r17, r16
        ;;
        and r18 = 7, r17
        and r19 = 3, r17
        ;;
        cmp.eq p6, p0 = 0, r18
        cmp.eq p7, p0 = 0, r19
        ;;
(p6)    br.cond.sptk.many copy8
(p7)    br.cond.sptk.many copy4
        ;;
copy1:
        cmp.eq p6, p0 = 0, r16
(p6)    br.cond.dpnt.many copied
        ;;
        ld1 r17 = [r14], 1
        ;;
        st1 [r15] = r17, 1
        adds r16 = -1, r16
        br.sptk.many copy1
        ;;
copy4:
        cmp.eq p6, p0 = 0, r16
(p6)    br.cond.dpnt.many copied
        ;;
        ld4 r17 = [r14], 4
        ;;
        st4 [r15] = r17, 4
        adds r16 = -4, r16
        br.sptk.many copy4
        ;;
copy8:
        cmp.eq p6, p0 = 0, r16
(p6)    br.cond.dpnt.many copied
        ;;
        ld8 r17 = [r14], 8
        ;;
        st8 [r15] = r17, 8
        adds r16 = -8, r16
        br.sptk.many copy8
        ;;
copied:
        adds r8 = MB_ARG1, r4
        ;;
        ld8 r8 = [r8]
        br.sptk.many done
        ;;

op_timestamp:
        mov r8 = ar.itc
        br.sptk.many done
        ;;

op_illegal:
        br.sptk.many illegal_bundle
        ;;
        .align 16
illegal_bundle:
        data8 0x1f, 0                       /* template 0x1f is reserved */

/*
 * Any interruption, vector offset in r17 (bank 0, virtual ic = 0): record it and end the
 * request as trapped, then leave the interruption with rfi to trap_resume.
 */
trap_common:
        mov r26 = BREAK_VECTOR
        mov r18 = cr.isr
        mov r20 = cr.iip
        adds r21 = MB_TRAP_VECTOR, r4
        ;;
        cmp.eq p6, p7 = r17, r26
        ;;
(p6)    mov r19 = cr.iim
(p7)    mov r19 = cr.ifa
        ;;
        st8 [r21] = r17, 8
        ;;
        st8 [r21] = r18, 8
        ;;
        st8 [r21] = r19, 8
        ;;
        st8 [r21] = r20
        adds r22 = MB_STATUS, r4
        mov r23 = STATUS_TRAPPED
        ;;
        st8 [r22] = r23
        mov r24 = cr.ipsr
        movl r25 = trap_resume
        ;;
        dep r24 = 0, r24, 41, 2             /* psr.ri = 0 */
        ;;
        mov cr.ipsr = r24
        mov cr.iip = r25
        mov cr.ifs = r0                     /* keep the current frame */
        ;;
        rfi
        ;;

/* Back in bank 1 with interruption collection on: a fresh register and memory stack. */
trap_resume:
        RSE_RESET
        adds r14 = MB_STACK_TOP, r4
        ;;
        ld8 r12 = [r14]
        br.sptk.many serve
        ;;

/*
 * The event callback (bank 0, virtual ic = 0, events masked): count the upcall, clear
 * evtchn_upcall_pending, return with rfi to the interrupted code (which unmasks events).
 */
        .globl entry_event
entry_event:
        mov r16 = pr
        adds r17 = MB_UPCALLS, r4
        adds r19 = MB_VCPU_INFO, r4
        ;;
        ld8 r18 = [r17]
        ld8 r20 = [r19]
        ;;
        adds r18 = 1, r18
        cmp.ne p6, p0 = r0, r20
        ;;
        st8 [r17] = r18
(p6)    st1 [r20] = r0                      /* vcpu_info.evtchn_upcall_pending */
        ;;
        mov pr = r16, -1
        ;;
        rfi
        ;;

/*
 * The interruption vector table (32 KiB aligned, as cr.iva requires): 20 long entries of
 * 0x400 bytes, then 48 short ones of 0x100; each records its offset and joins
 * trap_common.
 */
        .section .ivt, "ax", @progbits
        .align 32768
        .globl ivt
ivt:
        .macro VECTOR off
        .org \off
        mov r17 = \off
        br.sptk.many trap_common
        ;;
        .endm
        .irp off, 0x0000, 0x0400, 0x0800, 0x0c00, 0x1000, 0x1400, 0x1800, 0x1c00, 0x2000, 0x2400, 0x2800, 0x2c00, 0x3000, 0x3400, 0x3800, 0x3c00, 0x4000, 0x4400, 0x4800, 0x4c00
        VECTOR \off
        .endr
        .irp off, 0x5000, 0x5100, 0x5200, 0x5300, 0x5400, 0x5500, 0x5600, 0x5700, 0x5800, 0x5900, 0x5a00, 0x5b00, 0x5c00, 0x5d00, 0x5e00, 0x5f00
        VECTOR \off
        .endr
        .irp off, 0x6000, 0x6100, 0x6200, 0x6300, 0x6400, 0x6500, 0x6600, 0x6700, 0x6800, 0x6900, 0x6a00, 0x6b00, 0x6c00, 0x6d00, 0x6e00, 0x6f00
        VECTOR \off
        .endr
        .irp off, 0x7000, 0x7100, 0x7200, 0x7300, 0x7400, 0x7500, 0x7600, 0x7700, 0x7800, 0x7900, 0x7a00, 0x7b00, 0x7c00, 0x7d00, 0x7e00, 0x7f00
        VECTOR \off
        .endr
        .org 0x8000

        .data
        .align 8
/* Not 0: serve clears psr.ic before each request (written by the host's disarmTraps). */
        .globl traps_off
traps_off:
        data8 0
/* callback_op's struct callback_register: CALLBACKTYPE_event, no flags, the entry. */
cb_event:
        data2 0, 0
        data4 0
        data8 entry_event

        .bss
        .align 16384
mailboxes:
        .skip NR_VCPUS * 4096
scratch:
        .skip SCRATCH_BYTES
stacks: .skip NR_VCPUS << STACK_SHIFT
rbs:    .skip NR_VCPUS << RBS_SHIFT
