/*
 * hvkit's conformance guest agent for x86_64 PV (see docs/guest-agent.md): boots as a
 * 64-bit PV kernel, registers a trap table and the event and failsafe callbacks, maps
 * shared_info, then serves the host's requests from its per-vCPU mailbox, handing control
 * back with the kernel service call (hypercall 63 through the hypercall page).
 *
 * Xen facts: the hypercall ABI (rax = number; rdi, rsi, rdx, r10, r8, r9), the bounce
 * frames (rcx, r11, [error code], rip, cs, rflags, rsp, ss) and the iret hypercall frame
 * are from xen/include/public/arch-x86/xen-x86_64.h; trap_info from arch-x86/xen.h;
 * update_va_mapping / UVMF_INVLPG and set_callbacks from xen.h.
 *
 * Registers: r15 always holds this vCPU's mailbox. Mailbox offsets are those of
 * AGENT_MAILBOX (core/src/agent.ts).
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
#define STACK_BYTES     16384
#define SCRATCH_BYTES   65536
#define WINDOW_BYTES    65536

#define SERVICE_CALL    63
#define HC_set_trap_table     0
#define HC_set_callbacks      4
#define HC_update_va_mapping  14
#define HC_iret               23
#define FLAT_KERNEL_CS  0xe033
#define UVMF_INVLPG     2
#define PTE_FLAGS       0x63            /* present, writable, accessed, dirty */

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
ELFNOTE(2, .quad hypercall_page)            /* HYPERCALL_PAGE */
ELFNOTE(10, .asciz "!writable_page_tables") /* FEATURES */

        .section .text.head, "ax", @progbits
        .globl _start
_start:
        /* rsi = start_info. vCPU 0 uses mailbox 0 and stack 0. */
        lea mailboxes(%rip), %r15
        lea stacks + STACK_BYTES(%rip), %rsp
        mov %rsi, %rbx
        xor %edi, %edi
        call mailbox_init
        mov %rbx, MB_START_INFO(%r15)
        lea shared_info_page(%rip), %rax
        mov %rax, MB_SHARED_INFO(%r15)
        mov %rax, MB_VCPU_INFO(%r15)
        lea hypercall_page(%rip), %rax
        mov %rax, MB_HCALL_PAGE(%r15)
        lea scratch(%rip), %rax
        mov %rax, MB_SCRATCH(%r15)
        movq $SCRATCH_BYTES, MB_SCRATCH_LEN(%r15)
        lea window(%rip), %rax
        mov %rax, MB_WINDOW(%r15)
        movq $WINDOW_BYTES, MB_WINDOW_LEN(%r15)
        lea ap_entry(%rip), %rax
        mov %rax, MB_AP_ENTRY(%r15)
        movq $NR_VCPUS, MB_COUNT(%r15)
        lea trap_table(%rip), %rax
        mov %rax, MB_ARCH0(%r15)
        lea entry_event(%rip), %rax
        mov %rax, MB_ARCH1(%r15)
        lea entry_failsafe(%rip), %rax
        mov %rax, MB_ARCH2(%r15)
        mov %cr3, %rax                  /* emulated by Xen for a PV kernel */
        mov %rax, MB_ARCH3(%r15)

        /* shared_info: start_info gives its machine address; map it over our page. */
        lea shared_info_page(%rip), %rdi
        mov 40(%rbx), %rsi
        and $~0xfff, %rsi
        or $PTE_FLAGS, %rsi
        mov $UVMF_INVLPG, %edx
        call hypercall_page + HC_update_va_mapping * 32

        lea trap_table(%rip), %rdi
        call hypercall_page + HC_set_trap_table * 32

        lea entry_event(%rip), %rdi
        lea entry_failsafe(%rip), %rsi
        xor %edx, %edx
        call hypercall_page + HC_set_callbacks * 32
        jmp report

/* A secondary vCPU, started by VCPUOP_initialise with rdi = its id. */
        .globl ap_entry
ap_entry:
        lea mailboxes(%rip), %r15
        mov %rdi, %rax
        shl $12, %rax
        add %rax, %r15
        lea stacks + STACK_BYTES(%rip), %rsp
        mov %rdi, %rax
        imul $STACK_BYTES, %rax
        add %rax, %rsp
        call mailbox_init
        xor %eax, %eax
        cmp $32, %rdi                   /* legacy vcpu_info slots in shared_info */
        jae 1f
        mov %rdi, %rax
        shl $6, %rax                    /* sizeof(struct vcpu_info) */
        lea shared_info_page(%rip), %rcx
        add %rcx, %rax
1:      mov %rax, MB_VCPU_INFO(%r15)
        jmp report

/* Fills the fixed words of this vCPU's mailbox (r15), vCPU id in rdi; keeps rdi. */
mailbox_init:
        movabs $0x48564b4147454e54, %rax
        mov %rax, MB_MAGIC(%r15)
        movq $1, MB_VERSION(%r15)
        mov %rdi, MB_VCPU(%r15)
        lea 8(%rsp), %rax               /* the caller's stack top */
        mov %rax, MB_STACK_TOP(%r15)
        ret

/* The request loop. */
done:   mov %rax, MB_RESULT(%r15)
report: movq $STATUS_DONE, MB_STATUS(%r15)
serve:  mov %r15, %rdi
        call hypercall_page + SERVICE_CALL * 32
        mov MB_OP(%r15), %rax
        cmp $OP_HYPERCALL, %rax
        je op_hypercall
        cmp $OP_READ, %rax
        je op_read
        cmp $OP_WRITE, %rax
        je op_write
        cmp $OP_TIMESTAMP, %rax
        je op_timestamp
        cmp $OP_ILLEGAL, %rax
        je op_illegal
        cmp $OP_HCALL_DIRECT, %rax
        je op_hcall_direct
        movq $STATUS_BAD, MB_STATUS(%r15)
        jmp serve

op_hypercall:
        mov MB_ARG0(%r15), %rax
        cmp $128, %rax                  /* the page has 128 stubs */
        jae op_hcall_direct
        shl $5, %rax
        lea hypercall_page(%rip), %rcx
        add %rcx, %rax
        call load_args
        call *%rax
        jmp done

op_hcall_direct:
        call load_args
        mov MB_ARG0(%r15), %rax
        syscall
        jmp done

load_args:
        mov MB_ARG1(%r15), %rdi
        mov MB_ARG2(%r15), %rsi
        mov MB_ARG3(%r15), %rdx
        mov MB_ARG4(%r15), %r10
        mov MB_ARG5(%r15), %r8
        mov MB_ARG6(%r15), %r9
        ret

op_read:
        mov MB_ARG0(%r15), %rsi
        lea MB_DATA(%r15), %rdi
        jmp copy_request
op_write:
        lea MB_DATA(%r15), %rsi
        mov MB_ARG0(%r15), %rdi
copy_request:
        mov MB_ARG1(%r15), %rcx
        call copy
        mov MB_ARG1(%r15), %rax
        jmp done

/* Copies rcx bytes from rsi to rdi, 8 or 4 bytes at a time when all three allow. */
copy:
        mov %rsi, %rax
        or %rdi, %rax
        or %rcx, %rax
        test $7, %al
        jz 8f
        test $3, %al
        jz 4f
1:      test %rcx, %rcx
        jz 9f
        movb (%rsi), %al
        movb %al, (%rdi)
        inc %rsi
        inc %rdi
        dec %rcx
        jmp 1b
4:      test %rcx, %rcx
        jz 9f
        movl (%rsi), %eax
        movl %eax, (%rdi)
        add $4, %rsi
        add $4, %rdi
        sub $4, %rcx
        jmp 4b
8:      test %rcx, %rcx
        jz 9f
        movq (%rsi), %rax
        movq %rax, (%rdi)
        add $8, %rsi
        add $8, %rdi
        sub $8, %rcx
        jmp 8b
9:      ret

op_timestamp:
        rdtsc
        shl $32, %rdx
        or %rdx, %rax
        jmp done

op_illegal:
        ud2
        xor %eax, %eax
        jmp done

/*
 * Exceptions. Each entry leaves (vector, error code, rip) on the stack and joins
 * trap_common, which records them (and cr2 from vcpu_info.arch for #PF) in the mailbox
 * and ends the request as trapped, back on this vCPU's stack.
 */
#define TRAP_NOCODE(vec)  \
trap_##vec:               \
        pop %rcx;         \
        pop %r11;         \
        push $0;          \
        push $vec;        \
        jmp trap_common
#define TRAP_CODE(vec)    \
trap_##vec:               \
        pop %rcx;         \
        pop %r11;         \
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
        pop %rax
        mov %rax, MB_TRAP_VECTOR(%r15)
        pop %rax
        mov %rax, MB_TRAP_CODE(%r15)
        pop %rax
        mov %rax, MB_TRAP_PC(%r15)
        xor %eax, %eax
        cmpq $14, MB_TRAP_VECTOR(%r15)
        jne 1f
        mov MB_VCPU_INFO(%r15), %rcx
        test %rcx, %rcx
        jz 1f
        mov 16(%rcx), %rax              /* vcpu_info.arch.cr2 */
1:      mov %rax, MB_TRAP_ADDR(%r15)
        movq $STATUS_TRAPPED, MB_STATUS(%r15)
        mov MB_STACK_TOP(%r15), %rsp
        jmp serve

/* Xen's failsafe callback (a bad iret or segment load): recorded as vector 256. */
entry_failsafe:
        pop %rcx
        pop %r11
        push $0
        push $0
        push $256
        jmp trap_common

/*
 * The event upcall: count it, clear evtchn_upcall_pending of this vCPU's vcpu_info and
 * return with the iret hypercall (flags 0), which restores the saved upcall mask.
 */
entry_event:
        pop %rcx
        pop %r11
        push %rax
        incq MB_UPCALLS(%r15)
        mov MB_VCPU_INFO(%r15), %rax
        test %rax, %rax
        jz 1f
        movb $0, (%rax)
1:      pop %rax
        push $0
        jmp hypercall_page + HC_iret * 32

/* The virtual IDT: {vector, flags (DPL), cs, address}, ended by address 0. */
#define TI(vec, dpl) .byte vec, dpl; .word FLAT_KERNEL_CS; .long 0; .quad trap_##vec
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
        .quad 0, 0

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
stacks: .skip NR_VCPUS * STACK_BYTES
