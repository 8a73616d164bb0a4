/*
 * What traps-entry.S gives a 32-bit C guest: the frame its entry points hand to the
 * guest's `void trap_handler(struct regs *)` (the registers pushal saved, the vector, the
 * error code — 0 where the CPU pushes none — and Xen's compat bounce frame: eip, cs with
 * the saved upcall mask in bits 16–23, eflags), and the entry points to put in a trap table.
 */
#ifndef HVKIT_TRAPS_H
#define HVKIT_TRAPS_H

#include "rt.h"

struct regs {
    u32 edi, esi, ebp, esp_at_entry, ebx, edx, ecx, eax;
    u32 vector, error_code, eip, cs, eflags;
};

void trap_handler(struct regs *r);
void entry_BP(void), entry_UD(void), entry_GP(void), entry_PF(void), entry_x20(void);

#endif
