/*
 * Trap entry points for the traps guest. Xen's bounce frame on the kernel stack is
 * rcx, r11, [error code], rip, cs, rflags, rsp, ss; each entry restores rcx/r11, pushes a
 * dummy error code where the CPU has none, then the vector, saves the registers and calls
 * trap_handler(struct regs *). It returns with the iret hypercall (push flags = 0, jump to
 * stub 23, which pushes rcx, r11, rax).
 */
.macro ENTRY_NOEC name vec
        .globl \name
\name:  pop %rcx
        pop %r11
        push $0
        push $\vec
        jmp common
.endm
.macro ENTRY_EC name vec
        .globl \name
\name:  pop %rcx
        pop %r11
        push $\vec
        jmp common
.endm

        .text
ENTRY_NOEC entry_BP 3
ENTRY_NOEC entry_UD 6
ENTRY_EC   entry_GP 13
ENTRY_EC   entry_PF 14
ENTRY_NOEC entry_x21 0x21
ENTRY_EC   entry_NP 11
ENTRY_EC   entry_SS 12
/* The sysenter callback (CALLBACKTYPE_sysenter): a frame with no error code, vector 0x100. */
ENTRY_NOEC entry_sysenter 0x100

common:
        push %rax
        push %rbx
        push %rcx
        push %rdx
        push %rsi
        push %rdi
        push %rbp
        push %r8
        push %r9
        push %r10
        push %r11
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, %rdi
        call trap_handler
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %r11
        pop %r10
        pop %r9
        pop %r8
        pop %rbp
        pop %rdi
        pop %rsi
        pop %rdx
        pop %rcx
        pop %rbx
        pop %rax
        add $16, %rsp                   /* vector, error code */
        push $0                         /* iret flags: not in syscall */
        jmp hypercall_page + 23 * 32

/* The syscall callback: user mode executed `syscall`. Count it, return with VGCF_in_syscall. */
        .globl entry_syscall
entry_syscall:
        pop %rcx
        pop %r11
        incq syscall_count(%rip)
        push $0x100                     /* VGCF_in_syscall */
        jmp hypercall_page + 23 * 32

/* Back from user mode: int $0x21 (DPL 3) lands here; resume exec_user's caller. */
        .globl entry_ret2kern
entry_ret2kern:
        mov saved_rsp(%rip), %rsp
        ret

/* unsigned long exec_user(unsigned long (*fn)(void)): run fn at guest user level. */
        .globl exec_user
exec_user:
        push %rbp
        push %rbx
        lea 1f(%rip), %rax
        push %rax
        mov %rsp, saved_rsp(%rip)
        push $0xe02b                    /* ss */
        lea user_stack_top(%rip), %rax
        push %rax                       /* rsp */
        pushf                           /* rflags */
        push $0xe033                    /* cs, RPL 3: user mode */
        lea user_stub(%rip), %rax
        push %rax                       /* rip */
        push $0                         /* flags */
        jmp hypercall_page + 23 * 32
1:      pop %rbx
        pop %rbp
        ret

user_stub:
        call *%rdi
        int $0x21

        .bss
        .p2align 12
user_stack: .skip 4096
user_stack_top:
        .data
saved_rsp: .quad 0
        .globl syscall_count
syscall_count: .quad 0
