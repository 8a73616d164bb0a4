/*
 * hvkit's conformance guest agent for 64-bit PowerPC (970 class, big-endian) PV guests
 * (see docs/guest-agent.md): boots as a PowerPC kernel in real mode, makes its interrupt
 * vectors live, finds shared_info through the device tree, then serves the host's
 * requests from its per-vCPU mailbox, handing control back with the kernel service call.
 *
 * Xen facts (Xen's PowerPC port, last in 3.2): the hypercall is `sc 1` with r3 =
 * XEN_MARK | number (every bit from 16 up set) and the arguments in r4..r9, result in r3
 * (xen/arch/powerpc/hcalls.c, powerpc64/exceptions.S); guest pointers are inline xencomm
 * handles, guest-physical address | 1 << 63 (arch-powerpc.h XENCOMM_INLINE_FLAG); the
 * domain enters in real mode with MSR = SF and r3 = the flattened device tree, whose /xen
 * node's "shared-info" property holds <address, size> of shared_info
 * (tools/libxc/powerpc64/mk_flatdevtree.c). The interrupt vectors are the architecture's
 * (PowerPC Book III, PPC970 user manual): guest-physical 0x100 * n, entered with SRR0 =
 * the address, SRR1 = the saved MSR bits and the cause bits, MSR[RI] = 0; `rfid` returns.
 *
 * hvkit choices the agent relies on (docs/guest-agent.md): the event upcall is an external
 * interrupt (0x500) while MSR[EE] = 1; a synchronous interrupt taken while MSR[RI] = 0 has
 * no handler and crashes the domain, so the agent sets RI = 1 once its vectors are live.
 *
 * Registers: r31 always holds this vCPU's mailbox, r30 its vCPU id; r1 is the stack. The
 * mailbox offsets are AGENT_MAILBOX's (core/src/agent.ts); its fields are big-endian u64.
 * The agent is linked at guest-physical 0 (its vectors must sit at 0x100 * n) and runs in
 * real mode, so its addresses are guest-physical, but for the window.
 *
 * The window: WINDOW_PAGES pages at effective address 1 << 36 (segment 0x100), reached with
 * data relocation (MSR[DR] = 1) through the hashed page table, whose entries the host
 * edits with H_ENTER and H_REMOVE (arch-ppc/src/agent.ts mapFrame). At boot each vCPU
 * loads two SLB entries, segment 0 with VSID_LOW and the window's with VSID_WINDOW (Ks =
 * Kp = 0), and enters its own mailbox page at its own address (slot 1 of the page's
 * primary PTE group), so that a copy between the mailbox and the window runs with DR = 1;
 * vCPU 0 enters window page i for frame (window_pages >> 12) + i (slot 0 of its primary
 * group, PP = 2: read/write). Every hash the agent uses is below 2048, the PTE group count
 * of the smallest table (2^18 bytes), so no table size is needed to place an entry.
 *
 * Requests:
 *   Hypercall, HypercallDirect (the same: PowerPC has no hypercall page): args[0] is a Xen
 *     hypercall number, to which the agent adds XEN_MARK; a PAPR hcall (H_ENTER ...) is
 *     asked for as 1 << 32 | its number, and goes in r3 as the bare number. args[1..6]
 *     go in r4..r9.
 *   Read, Write: ld/std, lwz/stw or lbz/stb by the width rule; with MSR[DR] = 1 when the
 *     address is in the window's segment.
 *   Timestamp: mftb. Illegal: the word 0x00000000 (primary opcode 0, illegal).
 *   Before each request, when the word at boot.arch[0] (`traps_off`) is not 0, the agent
 *     clears MSR[RI] (mtmsrd with L = 1 keeps EE): the host's disarmTraps writes it.
 * Traps: trap[0] = the vector (0x300, 0x700 ...), trap[1] = DSISR << 32 | SRR1's low 32
 *   bits (the cause bits: program 0x80000 illegal, 0x40000 privileged, 0x20000 trap;
 *   DSISR 0x02000000 store), trap[2] = DAR for 0x300, 0x380 and 0x600 (else 0),
 *   trap[3] = SRR0.
 * Upcalls: 0x500 adds 1 to `upcalls`, clears the byte at `vcpu_info`, `rfid`s back.
 *   0x900 (decrementer) reloads DEC with its largest value and returns: the agent uses no
 *   timer interrupt, it only keeps one from being mistaken for a trap.
 * Secondary vCPUs enter `ap_entry` in real mode with r3 = their vCPU id.
 */
        .set MB_MAGIC,        0
        .set MB_VERSION,      8
        .set MB_VCPU,         16
        .set MB_OP,           24
        .set MB_ARG0,         32
        .set MB_ARG1,         40
        .set MB_ARG2,         48
        .set MB_ARG3,         56
        .set MB_ARG4,         64
        .set MB_ARG5,         72
        .set MB_ARG6,         80
        .set MB_RESULT,       88
        .set MB_STATUS,       96
        .set MB_TRAP_VECTOR,  104
        .set MB_TRAP_CODE,    112
        .set MB_TRAP_ADDR,    120
        .set MB_TRAP_PC,      128
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
        .set MB_ARCH3,        272
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
        .set STACK_SHIFT,     14              /* 16 KiB per vCPU */
        .set SCRATCH_BYTES,   0x10000
        .set MAX_VIRT_CPUS,   32              /* legacy vcpu_info slots in shared_info */
        .set VCPU_INFO_BYTES, 48              /* sizeof(struct vcpu_info) on ppc64 */
        .set MIN_FRAME,       112             /* ELFv1 minimum stack frame */

        .set SERVICE_CALL,    63
        .set MSR_EE,          0x8000
        .set MSR_RI,          0x2
        .set MSR_DR,          0x10

        .set WINDOW_PAGES,    16
        .set WINDOW_ESID,     0x100           /* the window's segment: EA 1 << 36 */
        .set WINDOW_SHIFT,    36
        .set VSID_LOW,        1               /* segment 0: the agent's own memory */
        .set VSID_WINDOW,     2
        .set H_ENTER,         0x08            /* PAPR hcall tokens (r3 without XEN_MARK) */
        .set PTE_V,           1
        .set PP_RW,           2
        .set PTEG_MASK,       0x7ff

        .set FDT_MAGIC_HI,    0xd00d
        .set FDT_MAGIC_LO,    0xfeed
        .set FDT_BEGIN_NODE,  1
        .set FDT_END_NODE,    2
        .set FDT_PROP,        3
        .set FDT_NOP,         4

/* reg = the absolute (guest-physical) address of sym; the image lies below 2 GiB. */
        .macro LA reg, sym
        lis \reg, \sym@h
        ori \reg, \reg, \sym@l
        .endm

        .macro ELFNOTE type, body:vararg
        .pushsection .note.Xen, "a", @note
        .p2align 2
        .long 4, 2f - 1f, \type
        .asciz "Xen"
        .p2align 2
1:      \body
2:      .p2align 2
        .popsection
        .endm

        ELFNOTE 6, .asciz "hvkit-agent"     /* GUEST_OS */
        ELFNOTE 7, .asciz "1"               /* GUEST_VERSION */
        ELFNOTE 8, .asciz "generic"         /* LOADER */
        ELFNOTE 5, .asciz "xen-3.0"         /* XEN_VERSION */

/*
 * The interrupt vectors, at guest-physical 0x100 * n (the section is linked at 0). A
 * synchronous interrupt records its vector and joins trap_common; it never returns to
 * the interrupted code, so it may use any register but r30, r31.
 */
        .section .vectors, "ax", @progbits
        .p2align 2
        .macro TRAP vec
        .org \vec
        li 3, \vec
        b trap_common
        .endm

        TRAP 0x100                          /* system reset */
        TRAP 0x200                          /* machine check */
        TRAP 0x300                          /* data storage (DSI) */
        TRAP 0x380                          /* data segment */
        TRAP 0x400                          /* instruction storage (ISI) */
        TRAP 0x480                          /* instruction segment */

/*
 * The event upcall (external interrupt; an hvkit choice). Saves what it uses below the
 * stack pointer (the agent keeps nothing there) and returns with rfid, which restores
 * MSR[EE] from SRR1.
 */
        .org 0x500
        std 3, -8(1)
        std 4, -16(1)
        mfcr 3
        std 3, -24(1)
        ld 3, MB_UPCALLS(31)
        addi 3, 3, 1
        std 3, MB_UPCALLS(31)
        ld 4, MB_VCPU_INFO(31)
        cmpdi 4, 0
        beq 1f
        li 3, 0
        stb 3, 0(4)                         /* vcpu_info.evtchn_upcall_pending */
1:      ld 3, -24(1)
        mtcrf 0xff, 3
        ld 3, -8(1)
        ld 4, -16(1)
        rfid

        TRAP 0x600                          /* alignment */
        TRAP 0x700                          /* program */
        TRAP 0x800                          /* floating-point unavailable */

/* The decrementer: reload it and return (see the top). */
        .org 0x900
        std 3, -8(1)
        lis 3, 0x7fff
        ori 3, 3, 0xffff
        mtdec 3
        ld 3, -8(1)
        rfid

        TRAP 0xa00
        TRAP 0xb00
        TRAP 0xc00                          /* system call (`sc`, LEV = 0) */
        TRAP 0xd00                          /* trace */
        TRAP 0xe00
        TRAP 0xf00                          /* performance monitor */
        TRAP 0xf20                          /* VMX (AltiVec) unavailable */
        TRAP 0x1000
        TRAP 0x1100
        TRAP 0x1200
        TRAP 0x1300                         /* instruction address breakpoint */
        TRAP 0x1400
        TRAP 0x1500
        TRAP 0x1600                         /* soft patch */
        TRAP 0x1700                         /* VMX assist */
        TRAP 0x1800                         /* thermal */

        .section .text, "ax", @progbits
        .p2align 2
        .globl _start
_start:
        /* r3 = the device tree. vCPU 0 takes mailbox 0 and stack 0. */
        mr 27, 3
        li 30, 0
        bl vcpu_init
        std 27, MB_BOOT_ARG(31)
        li 0, 0
        std 0, MB_START_INFO(31)            /* no start_info on PowerPC */
        std 0, MB_HCALL_PAGE(31)            /* no hypercall page */
        bl map_window
        li 0, 1
        sldi 0, 0, WINDOW_SHIFT
        std 0, MB_WINDOW(31)
        li 0, WINDOW_PAGES
        sldi 0, 0, 12
        std 0, MB_WINDOW_LEN(31)
        LA 0, window_pages
        std 0, MB_ARCH1(31)
        LA 0, host_buffer
        std 0, MB_ARCH2(31)
        mr 3, 27
        bl fdt_shared_info
        LA 4, shared_info
        std 3, 0(4)
        std 3, MB_SHARED_INFO(31)
        std 3, MB_VCPU_INFO(31)             /* vCPU 0's vcpu_info opens shared_info */
        LA 0, scratch
        std 0, MB_SCRATCH(31)
        lis 0, SCRATCH_BYTES >> 16
        std 0, MB_SCRATCH_LEN(31)
        LA 0, ap_entry
        std 0, MB_AP_ENTRY(31)
        li 0, NR_VCPUS
        std 0, MB_COUNT(31)
        LA 0, traps_off
        std 0, MB_ARCH0(31)
        b report

/* A secondary vCPU, started by VCPUOP_initialise with r3 = its id, in real mode. */
        .globl ap_entry
ap_entry:
        mr 30, 3
        bl vcpu_init
        LA 4, shared_info
        ld 4, 0(4)
        li 0, 0
        cmpdi 4, 0
        beq 1f
        cmpldi 30, MAX_VIRT_CPUS
        bge 1f
        mulli 0, 30, VCPU_INFO_BYTES
        add 0, 0, 4
1:      std 0, MB_VCPU_INFO(31)
        b report

/*
 * Sets up vCPU r30: r31 = its mailbox, r1 = its stack (one empty frame below the top),
 * the mailbox's fixed words, then MSR[EE] = MSR[RI] = 1: the vectors are live.
 */
vcpu_init:
        LA 31, mailboxes
        sldi 0, 30, 12
        add 31, 31, 0
        LA 1, stacks
        addi 0, 30, 1
        sldi 0, 0, STACK_SHIFT
        add 1, 1, 0
        addi 1, 1, -MIN_FRAME
        li 0, 0
        std 0, 0(1)                         /* end of the back chain */
        std 1, MB_STACK_TOP(31)
        lis 0, 0x4856                       /* "HVKAGENT" */
        ori 0, 0, 0x4b41
        sldi 0, 0, 32
        oris 0, 0, 0x4745
        ori 0, 0, 0x4e54
        std 0, MB_MAGIC(31)
        li 0, 1
        std 0, MB_VERSION(31)
        std 30, MB_VCPU(31)
        /* SLB entry 0: segment 0 -> VSID_LOW; entry 1: the window's -> VSID_WINDOW. */
        li 5, VSID_LOW
        sldi 5, 5, 12
        lis 6, 0x0800                       /* V (bit 36), index 0 */
        slbmte 5, 6
        li 5, VSID_WINDOW
        sldi 5, 5, 12
        li 6, WINDOW_ESID
        sldi 6, 6, 28
        oris 6, 6, 0x0800
        ori 6, 6, 1                         /* index 1 */
        slbmte 5, 6
        isync
        /* H_ENTER(H_EXACT, slot 1 of the primary group, this mailbox at its own address). */
        srdi 7, 31, 12                      /* page index p (the mailbox lies below 256 MiB) */
        xori 5, 7, VSID_LOW
        andi. 5, 5, PTEG_MASK
        sldi 5, 5, 3
        addi 5, 5, 1
        li 6, VSID_LOW
        sldi 6, 6, 12
        srdi 8, 7, 11
        sldi 8, 8, 7
        or 6, 6, 8
        ori 6, 6, PTE_V                     /* dword 0: AVPN = VSID || p[0:4], V */
        sldi 7, 7, 12
        ori 7, 7, PP_RW                     /* dword 1: the frame, PP = 2 */
        li 4, 1
        sldi 4, 4, 39                       /* H_EXACT */
        li 3, H_ENTER
        sc 1
        li 0, MSR_RI
        ori 0, 0, MSR_EE
        mtmsrd 0, 1
        blr

/* Enters window page i -> frame (window_pages >> 12) + i, i = 0 .. WINDOW_PAGES - 1. */
map_window:
        LA 26, window_pages
        li 25, 0
1:      xori 5, 25, VSID_WINDOW
        andi. 5, 5, PTEG_MASK
        sldi 5, 5, 3                        /* slot 0 of the primary group */
        li 6, VSID_WINDOW
        sldi 6, 6, 12
        ori 6, 6, PTE_V                     /* p < 2048: p[0:4] = 0 */
        sldi 7, 25, 12
        add 7, 7, 26
        ori 7, 7, PP_RW
        li 4, 1
        sldi 4, 4, 39
        li 3, H_ENTER
        sc 1
        addi 25, 25, 1
        cmpdi 25, WINDOW_PAGES
        blt 1b
        blr

/*
 * r3 = the first u64 of the "shared-info" property in the flattened device tree at r3,
 * or 0 when the blob is not a device tree or has none. Walks the structure block token
 * by token, bounded by totalsize.
 */
fdt_shared_info:
        lwz 4, 0(3)                         /* magic */
        lis 5, FDT_MAGIC_HI
        ori 5, 5, FDT_MAGIC_LO
        cmplw 4, 5
        bne 9f
        lwz 8, 4(3)                         /* totalsize */
        add 8, 8, 3                         /* end of the blob */
        lwz 5, 8(3)                         /* off_dt_struct */
        add 5, 5, 3
        lwz 6, 12(3)                        /* off_dt_strings */
        add 6, 6, 3
1:      cmpld 5, 8
        bge 9f
        lwz 7, 0(5)
        addi 5, 5, 4
        cmpwi 7, FDT_PROP
        beq 3f
        cmpwi 7, FDT_END_NODE
        beq 1b
        cmpwi 7, FDT_NOP
        beq 1b
        cmpwi 7, FDT_BEGIN_NODE
        bne 9f                              /* FDT_END or garbage */
2:      lbz 7, 0(5)                         /* skip the node's name */
        addi 5, 5, 1
        cmpwi 7, 0
        bne 2b
        addi 5, 5, 3
        rldicr 5, 5, 0, 61
        b 1b
3:      lwz 7, 0(5)                         /* len */
        lwz 9, 4(5)                         /* nameoff */
        addi 5, 5, 8
        add 9, 9, 6
        LA 10, shared_info_name
4:      lbz 11, 0(9)
        lbz 12, 0(10)
        cmpw 11, 12
        bne 5f
        addi 9, 9, 1
        addi 10, 10, 1
        cmpwi 11, 0
        bne 4b
        lwz 3, 0(5)                         /* found: a 4-aligned big-endian u64 */
        lwz 4, 4(5)
        sldi 3, 3, 32
        or 3, 3, 4
        blr
5:      add 5, 5, 7                         /* skip the value */
        addi 5, 5, 3
        rldicr 5, 5, 0, 61
        b 1b
9:      li 3, 0
        blr

/* The request loop. */
done:   std 3, MB_RESULT(31)
report: li 0, STATUS_DONE
        std 0, MB_STATUS(31)
serve:  lis 3, -1                           /* XEN_MARK | the kernel service call */
        ori 3, 3, SERVICE_CALL
        mr 4, 31
        sc 1
        LA 5, traps_off
        ld 5, 0(5)
        cmpdi 5, 0
        beq 1f
        li 0, 0                             /* RI = 0: no handler for the next trap */
        ori 0, 0, MSR_EE
        mtmsrd 0, 1
1:      ld 0, MB_OP(31)
        cmpdi 0, OP_HYPERCALL
        beq op_hypercall
        cmpdi 0, OP_READ
        beq op_read
        cmpdi 0, OP_WRITE
        beq op_write
        cmpdi 0, OP_TIMESTAMP
        beq op_timestamp
        cmpdi 0, OP_ILLEGAL
        beq op_illegal
        cmpdi 0, OP_HCALL_DIRECT
        beq op_hypercall
        li 0, STATUS_BAD
        std 0, MB_STATUS(31)
        b serve

op_hypercall:
        ld 3, MB_ARG0(31)
        srdi 0, 3, 32
        cmpldi 0, 1
        beq 1f
        lis 0, -1                           /* XEN_MARK */
        or 3, 3, 0
        b 2f
1:      clrldi 3, 3, 32                     /* a PAPR hcall */
2:      ld 4, MB_ARG1(31)
        ld 5, MB_ARG2(31)
        ld 6, MB_ARG3(31)
        ld 7, MB_ARG4(31)
        ld 8, MB_ARG5(31)
        ld 9, MB_ARG6(31)
        sc 1
        b done

op_read:
        ld 4, MB_ARG0(31)
        addi 5, 31, MB_DATA
        b copy_request
op_write:
        addi 4, 31, MB_DATA
        ld 5, MB_ARG0(31)
copy_request:
        ld 6, MB_ARG1(31)
        ld 7, MB_ARG0(31)
        srdi 7, 7, 28
        cmpldi 7, WINDOW_ESID
        bne 1f
        mfmsr 7                             /* the window: data relocation on */
        ori 7, 7, MSR_DR
        mtmsrd 7
        isync
1:      bl copy
        mfmsr 7
        li 8, MSR_DR
        andc 7, 7, 8
        mtmsrd 7
        isync
        ld 3, MB_ARG1(31)
        b done

/* Copies r6 bytes from r4 to r5, 8 or 4 bytes at a time when all three allow. */
copy:
        or 7, 4, 5
        or 7, 7, 6
        andi. 0, 7, 7
        beq 8f
        andi. 0, 7, 3
        beq 4f
1:      cmpdi 6, 0
        beq 9f
        lbz 0, 0(4)
        stb 0, 0(5)
        addi 4, 4, 1
        addi 5, 5, 1
        addi 6, 6, -1
        b 1b
4:      cmpdi 6, 0
        beq 9f
        lwz 0, 0(4)
        stw 0, 0(5)
        addi 4, 4, 4
        addi 5, 5, 4
        addi 6, 6, -4
        b 4b
8:      cmpdi 6, 0
        beq 9f
        ld 0, 0(4)
        std 0, 0(5)
        addi 4, 4, 8
        addi 5, 5, 8
        addi 6, 6, -8
        b 8b
9:      blr

op_timestamp:
        mftb 3
        b done

op_illegal:
        .long 0x00000000
        li 3, 0
        b done

/*
 * A synchronous interrupt, vector in r3: record it in the mailbox (before MSR[EE] = 1,
 * which would let an upcall overwrite SRR0/SRR1), end the request as trapped, make the
 * vectors live again and serve on this vCPU's stack.
 */
trap_common:
        mfsrr0 4
        mfsrr1 5
        li 6, 0
        li 7, 0
        cmpdi 3, 0x300
        beq 1f
        cmpdi 3, 0x600
        beq 1f
        cmpdi 3, 0x380
        bne 2f
        mfdar 6
        b 2f
1:      mfdar 6
        mfdsisr 7
2:      std 3, MB_TRAP_VECTOR(31)
        clrldi 5, 5, 32
        sldi 7, 7, 32
        or 5, 5, 7
        std 5, MB_TRAP_CODE(31)
        std 6, MB_TRAP_ADDR(31)
        std 4, MB_TRAP_PC(31)
        li 0, STATUS_TRAPPED
        std 0, MB_STATUS(31)
        ld 1, MB_STACK_TOP(31)
        li 0, MSR_RI
        ori 0, 0, MSR_EE
        mtmsrd 0, 1
        b serve

        .section .rodata, "a", @progbits
shared_info_name:
        .asciz "shared-info"

        .section .data, "aw", @progbits
        .p2align 3
/* Not 0: serve clears MSR[RI] before each request (written by the host's disarmTraps). */
        .globl traps_off
traps_off:
        .quad 0
/* shared_info's guest-physical address, from the device tree (0: not found). */
shared_info:
        .quad 0

        .section .bss, "aw", @nobits
        .p2align 12
mailboxes:
        .skip NR_VCPUS * 4096
scratch:
        .skip SCRATCH_BYTES
stacks: .skip NR_VCPUS << STACK_SHIFT
/* The frames the window shows at boot. */
window_pages:
        .skip WINDOW_PAGES * 4096
/* A page for the arguments of the host's own requests (arch-ppc/src/agent.ts). */
host_buffer:
        .skip 4096
