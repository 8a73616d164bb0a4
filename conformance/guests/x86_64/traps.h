/*
 * What traps-entry.S gives a C guest: the frame its entry points hand to the guest's
 * `void trap_handler(struct regs *)` (the registers it saved, the vector, the error code
 * — 0 where the CPU pushes none — and Xen's bounce frame), the entry points to put in a
 * trap table, the syscall callback, and exec_user to run a function in guest user mode.
 */
#ifndef HVKIT_TRAPS_H
#define HVKIT_TRAPS_H

#include "rt.h"

struct regs {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error_code, rip, cs, rflags, rsp, ss;
};

void trap_handler(struct regs *r);
void entry_BP(void), entry_UD(void), entry_GP(void), entry_PF(void), entry_x21(void);
void entry_syscall(void), entry_ret2kern(void);
/* #NP, #SS, and the sysenter callback (its frame reaches trap_handler as vector 0x100). */
void entry_NP(void), entry_SS(void), entry_sysenter(void);
/* Runs fn in guest user mode (iret to ring 3; int $0x21 brings it back); returns its result. */
unsigned long exec_user(unsigned long (*fn)(void));
/* How many times the syscall callback ran. */
extern u64 syscall_count;

#endif
