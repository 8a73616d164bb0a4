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

/*
 * Probing instructions that may fault: PROBE(insn, asm operands) runs `insn` with its
 * fixup (the address after it) in probe_fixup and gives the fault it raised as
 * FAULT(vector, error code), 0 for none. The guest defines the two variables and calls
 * probe_fault_taken from its trap_handler.
 */
extern volatile u64 probe_fixup, probe_fault;
#define FAULT(vec, ec) (0x100000UL | ((u64)(vec) << 16) | (ec))
#define PROBE(insn, ...)                                                               \
    ({                                                                                 \
        probe_fault = 0;                                                               \
        asm volatile("lea 1f(%%rip), %%r11; mov %%r11, probe_fixup(%%rip); " insn "\n" \
                     "1: movq $0, probe_fixup(%%rip)" __VA_ARGS__);                    \
        probe_fault;                                                                   \
    })

/* While a probe runs: records the fault in probe_fault and resumes at the fixup; returns 1. */
static inline int probe_fault_taken(struct regs *r)
{
    if (!probe_fixup)
        return 0;
    probe_fault = FAULT(r->vector, r->error_code & 0xffff);
    r->rip = probe_fixup;
    probe_fixup = 0;
    return 1;
}

#endif
