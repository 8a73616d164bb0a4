/*
 * hvkit's conformance guest agent for x86 (32-bit PAE PV; see docs/guest-agent.md): boots
 * as a 32-bit PAE PV kernel in ring 1, registers a trap table and the event and failsafe
 * callbacks, maps shared_info, then serves the host's requests from its per-vCPU mailbox,
 * handing control back with the kernel service call (hypercall 63 through the hypercall
 * page).
 *
 * Xen facts: the compat hypercall ABI (int $0x82; eax = number; ebx, ecx, edx, esi, edi,
 * ebp; a 64-bit argument as a register pair, low word first), FLAT_RING1_CS, the compat
 * bounce frames ([error code], eip, cs, eflags; the failsafe callback's adds ds, es, fs,
 * gs below them) and the iret hypercall frame (eax, eip, cs, eflags) are from
 * xen/include/public/arch-x86/xen-x86_32.h and xen/arch/x86/x86_64/compat/entry.S;
 * trap_info (8 bytes here) from arch-x86/xen.h.
 *
 * Registers: every register may carry a hypercall argument, so nothing survives a call;
 * this vCPU's mailbox is found from the stack pointer (one stack per vCPU, MAILBOX below).
 * Mailbox words are u64s (AGENT_MAILBOX, core/src/agent.ts): the agent writes both
 * halves (results sign-extended) and reads the low half of arguments.
 */
#define MB_MAGIC        0
#define MB_VERSION      8
#define MB_VCPU         16
#define MB_OP           24
#define MB_ARG0         32
#define MB_ARG1         40
#define MB_ARG2         48
#define MB_ARG3         56
#define MB_ARG4         64
#define MB_ARG5         72
#define MB_ARG6         80
#define MB_RESULT       88
#define MB_STATUS       96
#define MB_TRAP_VECTOR  104
#define MB_TRAP_CODE    112
#define MB_TRAP_ADDR    120
#define MB_TRAP_PC      128
#define MB_UPCALLS      136
#define MB_VCPU_INFO    144
#define MB_STACK_TOP    152
#define MB_START_INFO   168
#define MB_SHARED_INFO  176
#define MB_HCALL_PAGE   184
#define MB_SCRATCH      192
#define MB_SCRATCH_LEN  200
#define MB_WINDOW       208
#define MB_WINDOW_LEN   216
#define MB_AP_ENTRY     224
#define MB_COUNT        232
#define MB_BOOT_ARG     240
#define MB_ARCH0        248
#define MB_ARCH1        256
#define MB_ARCH2        264
#define MB_ARCH3        272
#define MB_DATA         512

#define OP_HYPERCALL    1
#define OP_READ         2
#define OP_WRITE        3
#define OP_TIMESTAMP    4
#define OP_ILLEGAL      5
#define OP_HCALL_DIRECT 6

#define STATUS_DONE     0
#define STATUS_TRAPPED  1
#define STATUS_BAD      2


#define NR_VCPUS        8
#define STACK_SHIFT     14
#define STACK_BYTES     (1 << STACK_SHIFT)
#define SCRATCH_BYTES   65536
#define WINDOW_BYTES    65536

#define SERVICE_CALL    63
#define HC_set_trap_table     0
#define HC_set_callbacks      4
#define HC_update_va_mapping  14
#define HC_iret               23
#define FLAT_KERNEL_CS  0xe019
#define UVMF_INVLPG     2
#define PTE_FLAGS       0x63            /* present, writable, accessed, dirty */
#define SI_SHARED_INFO  36              /* start_info.shared_info (x86_32) */
#define VI_CR2          8               /* vcpu_info.arch.cr2 (x86_32) */

/* reg = this vCPU's mailbox, from the stack pointer (which may be at its stack's top). */
#define MAILBOX(reg)                \
        lea -1(%esp), reg;          \
        sub $stacks, reg;           \
        shr $STACK_SHIFT, reg;      \
        shl $12, reg;               \
        add $mailboxes, reg

/* Stores a 32-bit value with a zero high word into mailbox word `off` of `mb`. */
#define PUT(val, off, mb)           \
        movl val, off(mb);          \
        movl $0, off+4(mb)

#define ELFNOTE(type, body)                 \
        .pushsection .note.Xen, "a", @note; \
        .p2align 2;                         \
        .long 4, 2f - 1f, type;             \
        .asciz "Xen";                       \
        .p2align 2;                         \
1:      body;                               \
2:      .p2align 2;                         \
        .popsection

ELFNOTE(6, .asciz "hvkit-agent")            /* GUEST_OS */
ELFNOTE(7, .asciz "1")                      /* GUEST_VERSION */
ELFNOTE(8, .asciz "generic")                /* LOADER */
ELFNOTE(5, .asciz "xen-3.0")                /* XEN_VERSION */
ELFNOTE(2, .long hypercall_page)            /* HYPERCALL_PAGE */
ELFNOTE(9, .asciz "yes")                    /* PAE_MODE */
ELFNOTE(10, .asciz "!writable_page_tables|pae_pgdir_above_4gb") /* FEATURES */

        .section .text.head, "ax", @progbits
        .globl _start
_start:
        /* esi = start_info. vCPU 0 uses mailbox 0 and stack 0. */
        mov $stacks + STACK_BYTES, %esp
        xor %edi, %edi
        call mailbox_init
        MAILBOX(%ebx)
        PUT(%esi, MB_START_INFO, %ebx)
        PUT($shared_info_page, MB_SHARED_INFO, %ebx)
        PUT($shared_info_page, MB_VCPU_INFO, %ebx)
        PUT($hypercall_page, MB_HCALL_PAGE, %ebx)
        PUT($scratch, MB_SCRATCH, %ebx)
        PUT($SCRATCH_BYTES, MB_SCRATCH_LEN, %ebx)
        PUT($window, MB_WINDOW, %ebx)
        PUT($WINDOW_BYTES, MB_WINDOW_LEN, %ebx)
        PUT($ap_entry, MB_AP_ENTRY, %ebx)
        PUT($NR_VCPUS, MB_COUNT, %ebx)
        PUT($trap_table, MB_ARCH0, %ebx)
        PUT($entry_event, MB_ARCH1, %ebx)
        PUT($entry_failsafe, MB_ARCH2, %ebx)
        PUT($0, MB_ARCH3, %ebx)         /* the host reads the L3 from start_info.pt_base */

        /* shared_info: start_info gives its machine address; map it over our page. */
        mov SI_SHARED_INFO(%esi), %ecx
        and $~0xfff, %ecx
        or $PTE_FLAGS, %ecx
        mov $shared_info_page, %ebx
        xor %edx, %edx
        mov $UVMF_INVLPG, %esi
        call hypercall_page + HC_update_va_mapping * 32

        mov $trap_table, %ebx
        call hypercall_page + HC_set_trap_table * 32

        mov $FLAT_KERNEL_CS, %ebx
        mov $entry_event, %ecx
        mov $FLAT_KERNEL_CS, %edx
        mov $entry_failsafe, %esi
        call hypercall_page + HC_set_callbacks * 32
        jmp report

/* A secondary vCPU, started by VCPUOP_initialise with edi = its id. */
        .globl ap_entry
ap_entry:
        mov %edi, %eax
        shl $STACK_SHIFT, %eax
        lea stacks + STACK_BYTES(%eax), %esp
        call mailbox_init
        MAILBOX(%ebx)
        xor %eax, %eax
        cmp $32, %edi                   /* legacy vcpu_info slots in shared_info */
        jae 1f
        mov %edi, %eax
        shl $6, %eax                    /* sizeof(struct vcpu_info) */
        add $shared_info_page, %eax
1:      PUT(%eax, MB_VCPU_INFO, %ebx)
        jmp report

/* Fills the fixed words of this vCPU's mailbox, vCPU id in edi; keeps edi. */
mailbox_init:
        MAILBOX(%ebx)
        movl $0x47454e54, MB_MAGIC(%ebx)
        movl $0x48564b41, MB_MAGIC+4(%ebx)
        PUT($1, MB_VERSION, %ebx)
        PUT(%edi, MB_VCPU, %ebx)
        lea 4(%esp), %eax               /* the caller's stack top */
        PUT(%eax, MB_STACK_TOP, %ebx)
        ret

/* The request loop. */
done:   MAILBOX(%ebx)
        cltd
        movl %eax, MB_RESULT(%ebx)
        movl %edx, MB_RESULT+4(%ebx)
report: MAILBOX(%ebx)
        PUT($STATUS_DONE, MB_STATUS, %ebx)
serve:  MAILBOX(%ebx)
        call hypercall_page + SERVICE_CALL * 32
        MAILBOX(%ebx)
        mov MB_OP(%ebx), %eax
        cmp $OP_HYPERCALL, %eax
        je op_hypercall
        cmp $OP_READ, %eax
        je op_read
        cmp $OP_WRITE, %eax
        je op_write
        cmp $OP_TIMESTAMP, %eax
        je op_timestamp
        cmp $OP_ILLEGAL, %eax
        je op_illegal
        cmp $OP_HCALL_DIRECT, %eax
        je op_hcall_direct
        PUT($STATUS_BAD, MB_STATUS, %ebx)
        jmp serve

op_hypercall:
        mov MB_ARG0(%ebx), %eax
        cmp $128, %eax                  /* the page has 128 stubs */
        jae op_hcall_direct
        shl $5, %eax
        add $hypercall_page, %eax
        push %eax
        mov %ebx, %eax
        call load_args
        call *(%esp)
        add $4, %esp
        jmp done

op_hcall_direct:
        mov %ebx, %eax
        call load_args
        push %ebx
        MAILBOX(%ebx)
        mov MB_ARG0(%ebx), %eax
        pop %ebx
        int $0x82
        jmp done

/* Loads ebx, ecx, edx, esi, edi, ebp from the arguments of the mailbox in eax. */
load_args:
        mov MB_ARG2(%eax), %ecx
        mov MB_ARG3(%eax), %edx
        mov MB_ARG4(%eax), %esi
        mov MB_ARG5(%eax), %edi
        mov MB_ARG6(%eax), %ebp
        mov MB_ARG1(%eax), %ebx
        ret

op_read:
        mov MB_ARG0(%ebx), %esi
        lea MB_DATA(%ebx), %edi
        jmp copy_request
op_write:
        lea MB_DATA(%ebx), %esi
        mov MB_ARG0(%ebx), %edi
copy_request:
        mov MB_ARG1(%ebx), %ecx
        call copy
        MAILBOX(%ebx)
        mov MB_ARG1(%ebx), %eax
        jmp done

/* Copies ecx bytes from esi to edi, 4 bytes at a time when all three allow. */
copy:
        mov %esi, %eax
        or %edi, %eax
        or %ecx, %eax
        test $3, %al
        jz 4f
1:      test %ecx, %ecx
        jz 9f
        movb (%esi), %al
        movb %al, (%edi)
        inc %esi
        inc %edi
        dec %ecx
        jmp 1b
4:      test %ecx, %ecx
        jz 9f
        movl (%esi), %eax
        movl %eax, (%edi)
        add $4, %esi
        add $4, %edi
        sub $4, %ecx
        jmp 4b
9:      ret

op_timestamp:
        rdtsc
        MAILBOX(%ebx)
        movl %eax, MB_RESULT(%ebx)
        movl %edx, MB_RESULT+4(%ebx)
        jmp report

op_illegal:
        ud2
        xor %eax, %eax
        jmp done

/*
 * Exceptions. Each entry leaves (vector, error code, eip) on the stack and joins
 * trap_common, which records them (and cr2 from vcpu_info.arch for #PF) in the mailbox
 * and ends the request as trapped, back on this vCPU's stack.
 */
#define TRAP_NOCODE(vec)  \
trap_##vec:               \
        push $0;          \
        push $vec;        \
        jmp trap_common
#define TRAP_CODE(vec)    \
trap_##vec:               \
        push $vec;        \
        jmp trap_common

TRAP_NOCODE(0)
TRAP_NOCODE(1)
TRAP_NOCODE(3)
TRAP_NOCODE(4)
TRAP_NOCODE(5)
TRAP_NOCODE(6)
TRAP_NOCODE(7)
TRAP_CODE(8)
TRAP_CODE(10)
TRAP_CODE(11)
TRAP_CODE(12)
TRAP_CODE(13)
TRAP_CODE(14)
TRAP_NOCODE(16)
TRAP_CODE(17)
TRAP_NOCODE(18)
TRAP_NOCODE(19)

trap_common:
        MAILBOX(%ebx)
        pop %eax
        PUT(%eax, MB_TRAP_VECTOR, %ebx)
        pop %eax
        PUT(%eax, MB_TRAP_CODE, %ebx)
        pop %eax
        PUT(%eax, MB_TRAP_PC, %ebx)
        xor %eax, %eax
        cmpl $14, MB_TRAP_VECTOR(%ebx)
        jne 1f
        mov MB_VCPU_INFO(%ebx), %ecx
        test %ecx, %ecx
        jz 1f
        mov VI_CR2(%ecx), %eax
1:      PUT(%eax, MB_TRAP_ADDR, %ebx)
        PUT($STATUS_TRAPPED, MB_STATUS, %ebx)
        mov MB_STACK_TOP(%ebx), %esp
        jmp serve

/* Xen's failsafe callback (a bad iret or segment load): recorded as vector 256. */
entry_failsafe:
        push $0
        push $0
        push $256
        jmp trap_common

/*
 * The event upcall: count it, clear evtchn_upcall_pending of this vCPU's vcpu_info and
 * return with the iret hypercall stub (it pushes eax), which restores the saved upcall mask.
 */
entry_event:
        push %eax
        push %ebx
        MAILBOX(%ebx)
        addl $1, MB_UPCALLS(%ebx)
        adcl $0, MB_UPCALLS+4(%ebx)
        mov MB_VCPU_INFO(%ebx), %eax
        test %eax, %eax
        jz 1f
        movb $0, (%eax)
1:      pop %ebx
        pop %eax
        jmp hypercall_page + HC_iret * 32

/* The virtual IDT: {vector, flags (DPL), cs, address}, ended by address 0. */
#define TI(vec, dpl) .byte vec, dpl; .word FLAT_KERNEL_CS; .long trap_##vec
        .section .data
        .p2align 4
        .globl trap_table
trap_table:
        TI(0, 0)
        TI(1, 0)
        TI(3, 3)
        TI(4, 3)
        TI(5, 0)
        TI(6, 0)
        TI(7, 0)
        TI(8, 0)
        TI(10, 0)
        TI(11, 0)
        TI(12, 0)
        TI(13, 0)
        TI(14, 0)
        TI(16, 0)
        TI(17, 0)
        TI(18, 0)
        TI(19, 0)
        .long 0, 0

        .section .page_aligned, "aw", @progbits
        .p2align 12
        .globl hypercall_page
hypercall_page:
        .fill 4096, 1, 0xc3             /* `ret`s until Xen writes the stubs */

        .section .bss
        .p2align 12
shared_info_page:
        .skip 4096
mailboxes:
        .skip NR_VCPUS * 4096
scratch:
        .skip SCRATCH_BYTES
window:
        .skip WINDOW_BYTES
        .p2align STACK_SHIFT
stacks: .skip NR_VCPUS * STACK_BYTES
