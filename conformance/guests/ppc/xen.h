/*
 * The parts of Xen's public ABI the ppc C test guests use beyond rt.h and
 * ../common/xen-common.h, as a 64-bit PowerPC guest sees them (LP64, big-endian): Xen's
 * PowerPC port (public/arch-powerpc.h: cpu_user_regs, vcpu_guest_context) for the
 * registers, public/vcpu.h, sched.h and memory.h for the rest. How the events arrive
 * (external interrupt 0x500 while MSR[EE] = 1) and the hypercalls' handles: abi/ppc.md.
 */
#ifndef HVKIT_XEN_H
#define HVKIT_XEN_H

#include "rt.h"
#include "xen-common.h"

/* Hypercall numbers beyond rt.h's. */
#define HC_set_timer_op 15

/* set_timer_op(timeout): the 64-bit system time in one register. */
#define SET_TIMER_OP(ns) HYPERCALL(HC_set_timer_op, (ns), 0, 0, 0, 0)

/* sched_op (the numbers are in xen-common.h): `ports` is a handle (GUEST_HANDLE). */
struct sched_poll { u32 *ports; u32 nr_ports, _pad; u64 timeout; };

/*
 * shared_info at the guest page `page`: a translated guest asks for it there with
 * XENMEM_add_to_physmap(XENMAPSPACE_shared_info), as Xen/ppc's Linux did; the page's own
 * frame is given back. The call's result.
 */
static inline long map_shared_info(void *page)
{
    struct xen_add_to_physmap x = { DOMID_SELF, 0, XENMAPSPACE_shared_info, 0, mfn_of(page) };
    return HYPERCALL(HC_memory_op, XENMEM_add_to_physmap, &x, 0, 0, 0);
}

/* MSR bits a guest sets (Power ISA): FP available, external interrupts, recoverable. */
#define MSR_SF (1UL << 63)
#define MSR_FP 0x2000UL
#define MSR_EE 0x8000UL
#define MSR_RI 0x2UL
#define VECTOR_EXTERNAL 0x500UL

/*
 * Makes `entry` (code, not a function descriptor: evtchn-entry.S) the event upcall. There
 * is no callback_op on PowerPC: the upcall is the external interrupt, so the vector at
 * 0x500 becomes `ba entry` (an absolute branch: the guest lies below 32 MiB), then
 * MSR[EE] (take it) and MSR[RI] (the vectors are live; abi/ppc.md) are set. Always 0.
 */
static inline long register_event_callback(void (*entry)(void))
{
    u32 *vector = (u32 *)VECTOR_EXTERNAL;
    asm ("" : "+r" (vector)); /* an address, not an object gcc knows the bounds of */
    *vector = 0x48000002U | (u32)(unsigned long)entry;
    asm volatile ("dcbst 0,%0; sync; icbi 0,%0; isync" :: "r" (vector) : "memory");
    unsigned long msr;
    asm volatile ("mfmsr %0" : "=r" (msr));
    asm volatile ("mtmsrd %0" :: "r" (msr | MSR_EE | MSR_RI) : "memory");
    return 0;
}

/* vcpu_op structs (public/vcpu.h; the numbers are in xen-common.h). */
struct vcpu_runstate_info { int state; u32 _pad; u64 state_entry_time, time[4]; };
struct vcpu_register_vcpu_info { u64 mfn; u32 offset, rsvd; };
struct singleshot { u64 timeout_abs_ns; u32 flags, _pad; };

/* A vCPU's context (arch-powerpc.h). */
struct cpu_user_regs {
    u64 gprs[32], lr, ctr, srr0, srr1, pc, msr, fpscr, xer, hid4, dar;
    u32 dsisr, cr, _pad, entry_vector;
};
struct vcpu_guest_context {
    struct cpu_user_regs user_regs;
    u64 sdr1;
};
_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info");
_Static_assert(sizeof(struct cpu_user_regs) == 352, "cpu_user_regs");
_Static_assert(sizeof(struct vcpu_guest_context) == 360, "vcpu_guest_context");

/*
 * A vCPU context that starts the C function `entry` (an ELFv1 descriptor: code, TOC) on
 * `stack_top` (one empty frame below it) in 64-bit real mode, supervisor, with FP usable,
 * external interrupts (events) enabled and the vectors live, like the boot vCPU after
 * register_event_callback.
 */
static inline void kernel_context(struct vcpu_guest_context *c, void (*entry)(void), void *stack_top)
{
    const u64 *descriptor = (const u64 *)entry;
    memset(c, 0, sizeof(*c));
    c->user_regs.pc = descriptor[0];
    c->user_regs.gprs[2] = descriptor[1];
    c->user_regs.gprs[1] = (((u64)stack_top) & ~15UL) - 112;
    c->user_regs.msr = MSR_SF | MSR_FP | MSR_EE | MSR_RI;
}

#endif
