/*
 * The parts of Xen's public ABI that several of hvkit's C test guests use, declared once
 * (rt.h holds the hypercall macro, start_info, shared_info and the few numbers the
 * runtime itself needs; ../common/xen-common.h what is declared alike for a 32-bit guest:
 * errno values, event channels, grant tables, memory_op, the console and xenstore rings,
 * multicall, domctl and sysctl). Numbers and layouts as a 64-bit PV guest sees them in
 * Xen 4.19:
 * - hypercall numbers: public/xen.h (__HYPERVISOR_*);
 * - sched_poll: public/sched.h; callback_register: public/callback.h;
 * - vcpu_runstate_info, vcpu_set_singleshot_timer:
 *   public/vcpu.h; cpu_user_regs, vcpu_guest_context, VGCF_*, FLAT_KERNEL_*:
 *   public/arch-x86/xen.h and xen-x86_64.h.
 * Only declarations: a guest that includes it and uses none of it is unchanged.
 */
#ifndef HVKIT_XEN_H
#define HVKIT_XEN_H

#include "rt.h"
#include "xen-common.h"

/* Hypercall numbers beyond rt.h's. */
#define HC_set_timer_op 15

/* set_timer_op(timeout): the 64-bit system time in one register (a macro shared with x86). */
#define SET_TIMER_OP(ns) HYPERCALL(HC_set_timer_op, (ns), 0, 0, 0, 0)

/* sched_op and callback_op (the numbers are in xen-common.h). */
struct sched_poll { u32 *ports; u32 nr_ports, _pad; u64 timeout; };
struct callback_register { u16 type, flags; u32 _pad; u64 address; };

/* Registers `entry` as the event upcall (callback_op register, CALLBACKTYPE_event). */
static inline long register_event_callback(void (*entry)(void))
{
    struct callback_register cb = { CALLBACKTYPE_event, 0, 0, (u64)entry };
    return HYPERCALL(HC_callback_op, CALLBACKOP_register, &cb, 0, 0, 0);
}

/* A vCPU's context and the vcpu_op structs (the numbers are in xen-common.h). */
#define VGCF_in_kernel (1UL << 2)
#define FLAT_KERNEL_CS 0xe033
#define FLAT_KERNEL_SS 0xe02b
struct vcpu_runstate_info { int state; u32 _pad; u64 state_entry_time, time[4]; };
struct vcpu_register_vcpu_info { u64 mfn; u32 offset, rsvd; };
struct singleshot { u64 timeout_abs_ns; u32 flags, _pad; };
struct cpu_user_regs {
    u64 r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
    u32 error_code, entry_vector;
    u64 rip;
    u16 cs, _pad0[1];
    u8 saved_upcall_mask, _pad1[3];
    u64 rflags, rsp;
    u16 ss, _pad2[3], es, _pad3[3], ds, _pad4[3], fs, _pad5[3], gs, _pad6[3];
};
struct vcpu_guest_context {
    u8 fpu_ctxt[512];
    u64 flags;
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256];
    u64 ldt_base, ldt_ents, gdt_frames[16], gdt_ents, kernel_ss, kernel_sp;
    u64 ctrlreg[8], debugreg[8];
    u64 event_callback_eip, failsafe_callback_eip, syscall_callback_eip, vm_assist;
    u64 fs_base, gs_base_kernel, gs_base_user;
};
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info");
_Static_assert(sizeof(struct vcpu_guest_context) == 5168, "vcpu_guest_context");

/*
 * A vCPU context that starts `entry` in kernel mode on `stack_top` with interrupts
 * (events) enabled, the flat kernel segments and this vCPU's page tables.
 */
static inline void kernel_context(struct vcpu_guest_context *c, void (*entry)(void), void *stack_top)
{
    memset(c, 0, sizeof(*c));
    c->flags = VGCF_in_kernel;
    c->user_regs.rip = (u64)entry;
    c->user_regs.rsp = (u64)stack_top;
    c->user_regs.cs = FLAT_KERNEL_CS;
    c->user_regs.ss = FLAT_KERNEL_SS;
    c->user_regs.rflags = 0x200;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = c->user_regs.rsp;
    c->ctrlreg[3] = read_cr3();
}

#endif
