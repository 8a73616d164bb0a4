/*
 * The parts of Xen's public ABI that several of hvkit's 32-bit C test guests use (rt.h
 * holds the hypercall macro, start_info, shared_info and the runtime's numbers;
 * ../common/xen-common.h what is the same as for a 64-bit guest). Layouts
 * as a 32-bit PV guest sees them in Xen 4.19 (i386 alignment: a uint64_t field is 4-byte
 * aligned, as Xen's compat structs are):
 * - hypercall numbers: public/xen.h;
 * - sched_poll: public/sched.h; callback_register with xen_callback_t as { cs, eip }:
 *   public/callback.h and arch-x86/xen-x86_32.h;
 * - vcpu_runstate_info, vcpu_set_singleshot_timer: public/vcpu.h.
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

struct vcpu_runstate_info { int state; u64 state_entry_time, time[4]; };
struct singleshot { u64 timeout_abs_ns; u32 flags; };
_Static_assert(sizeof(struct vcpu_runstate_info) == 44, "vcpu_runstate_info");
_Static_assert(sizeof(struct singleshot) == 12, "vcpu_set_singleshot_timer");

#endif
