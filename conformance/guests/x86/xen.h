/*
 * The parts of Xen's public ABI that several of hvkit's 32-bit C test guests use (rt.h
 * holds the hypercall macro, start_info, shared_info and the runtime's numbers;
 * ../common/xen-common.h what is the same as for a 64-bit guest). Layouts
 * as a 32-bit PV guest sees them in Xen 4.19 (i386 alignment: a uint64_t field is 4-byte
 * aligned, as Xen's compat structs are):
 * - hypercall numbers: public/xen.h;
 * - sched_poll: public/sched.h; callback_register with xen_callback_t as { cs, eip }:
 *   public/callback.h and arch-x86/xen-x86_32.h;
 * - vcpu_runstate_info, vcpu_set_singleshot_timer: public/vcpu.h; cpu_user_regs,
 *   vcpu_guest_context, VGCF_*, FLAT_*: public/arch-x86/xen.h and xen-x86_32.h.
 * A 64-bit hypercall argument (set_timer_op's timeout) travels as two words, low first.
 */
#ifndef HVKIT_XEN_H
#define HVKIT_XEN_H

#include "rt.h"
#include "xen-common.h"

#define HC_set_timer_op 15
#define HC_callback_op 30

#define FLAT_RING1_CS 0xe019

struct sched_poll { u32 *ports; u32 nr_ports; u64 timeout; };
_Static_assert(sizeof(struct sched_poll) == 16, "sched_poll");

struct callback_register { u16 type, flags; u32 cs, eip; };
/* Registers `entry` as the event upcall (callback_op register, CALLBACKTYPE_event). */
static inline long register_event_callback(void (*entry)(void))
{
    struct callback_register cb = { CALLBACKTYPE_event, 0, FLAT_RING1_CS, (u32)entry };
    return HYPERCALL(HC_callback_op, CALLBACKOP_register, &cb, 0, 0, 0);
}

/* set_timer_op(timeout): the 64-bit system time as two words. */
#define SET_TIMER_OP(ns) HYPERCALL(HC_set_timer_op, (u32)(u64)(ns), (u32)((u64)(ns) >> 32), 0, 0, 0)

#define VGCF_in_kernel (1UL << 2)
#define FLAT_KERNEL_CS FLAT_RING1_CS
#define FLAT_KERNEL_SS 0xe021
struct vcpu_runstate_info { int state; u64 state_entry_time, time[4]; };
struct singleshot { u64 timeout_abs_ns; u32 flags; };
struct vcpu_register_vcpu_info { u64 mfn; u32 offset, rsvd; };
_Static_assert(sizeof(struct vcpu_runstate_info) == 44, "vcpu_runstate_info");
_Static_assert(sizeof(struct singleshot) == 12, "vcpu_set_singleshot_timer");

/* cpu_user_regs and vcpu_guest_context of a 32-bit guest (xen-x86_32.h, arch-x86/xen.h). */
struct cpu_user_regs {
    u32 ebx, ecx, edx, esi, edi, ebp, eax;
    u16 error_code, entry_vector;
    u32 eip;
    u16 cs;
    u8 saved_upcall_mask, _pad0;
    u32 eflags, esp;
    u16 ss, _pad1, es, _pad2, ds, _pad3, fs, _pad4, gs, _pad5;
};
struct vcpu_guest_context {
    u8 fpu_ctxt[512];
    u32 flags;
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256];
    u32 ldt_base, ldt_ents, gdt_frames[16], gdt_ents, kernel_ss, kernel_sp;
    u32 ctrlreg[8], debugreg[8];
    u32 event_callback_cs, event_callback_eip, failsafe_callback_cs, failsafe_callback_eip;
    u32 vm_assist;
};
_Static_assert(sizeof(struct cpu_user_regs) == 68, "cpu_user_regs");
_Static_assert(sizeof(struct vcpu_guest_context) == 2800, "vcpu_guest_context");

/*
 * A vCPU context that starts `entry` in kernel mode (ring 1) on `stack_top` with
 * interrupts (events) enabled, the flat kernel segments and this vCPU's page tables (cr3
 * as a compat guest reads it: compat_pfn_to_cr3, what arch_set_info_guest takes back).
 */
static inline void kernel_context(struct vcpu_guest_context *c, void (*entry)(void), void *stack_top)
{
    memset(c, 0, sizeof(*c));
    c->flags = VGCF_in_kernel;
    c->user_regs.eip = (u32)entry;
    c->user_regs.esp = (u32)stack_top;
    c->user_regs.cs = FLAT_KERNEL_CS;
    c->user_regs.ss = c->user_regs.ds = c->user_regs.es = FLAT_KERNEL_SS;
    c->user_regs.eflags = 0x200;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = c->user_regs.esp;
    c->ctrlreg[3] = read_cr3();
}

#endif
