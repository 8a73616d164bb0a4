/*
 * The parts of Xen's public ABI whose numbers and layouts are the same for a 64-bit and a
 * 32-bit PV guest (no pointer, long or 64-bit field), shared by both arches' xen.h:
 * - errno values: public/errno.h (Xen's own, equal to Linux's on x86);
 * - DOMID_SELF, SIF_*: public/xen.h; SCHEDOP_*: public/sched.h; CALLBACKOP_register,
 *   CALLBACKTYPE_event: public/callback.h;
 * - EVTCHNOP_*, EVTCHNSTAT_*, the evtchn_* ops: public/event_channel.h; VIRQ_*: xen.h.
 * Only declarations and thin wrappers over the arch's HYPERCALL (its rt.h).
 */
#ifndef HVKIT_XEN_COMMON_H
#define HVKIT_XEN_COMMON_H

#define HC_event_channel_op 32

/* errno values a hypercall returns negated. */
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define ENXIO 6
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define EDOM 33
#define ENOSYS 38
#define ENODATA 61
#define EOPNOTSUPP 95

#define DOMID_SELF 0x7ff0
#define SIF_PRIVILEGED 1
#define SIF_INITDOMAIN 2

/* sched_op and callback_op. */
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_poll 3
#define CALLBACKOP_register 0
#define CALLBACKTYPE_event 0

/* Event channels. */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq 1
#define EVTCHNOP_close 3
#define EVTCHNOP_send 4
#define EVTCHNOP_status 5
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_bind_ipi 7
#define EVTCHNOP_bind_vcpu 8
#define EVTCHNOP_unmask 9
#define EVTCHNOP_reset 10
#define EVTCHNSTAT_closed 0
#define EVTCHNSTAT_unbound 1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_virq 4
#define EVTCHNSTAT_ipi 5
#define VIRQ_TIMER 0
#define VIRQ_DEBUG 1
#define VIRQ_CONSOLE 2
#define VIRQ_DOM_EXC 3
#define VIRQ_ARGO 11
struct evtchn_alloc_unbound { u16 dom, remote_dom; u32 port; };
struct evtchn_bind_interdomain { u16 remote_dom; u16 _pad; u32 remote_port, local_port; };
struct evtchn_bind_virq { u32 virq, vcpu, port; };
struct evtchn_bind_ipi { u32 vcpu, port; };
struct evtchn_bind_vcpu { u32 port, vcpu; };
/* dom and port IN; status, vcpu and the union OUT. */
struct evtchn_status {
    u16 dom; u16 _pad; u32 port, status, vcpu;
    union { struct { u16 dom; } unbound; struct { u16 dom; u16 _p; u32 port; } interdomain; u32 virq; } u;
};

/* x86 is TSO: the ring protocols' rmb/wmb are compiler barriers (as Linux's virt_*mb). */
#define barrier() asm volatile ("" ::: "memory")

/* The hypercalls most guests make, as thin wrappers. */
static inline void yield(void) { HYPERCALL(HC_sched_op, SCHEDOP_yield, 0, 0, 0, 0); }
static inline long evtchn_op(int cmd, void *arg) { return HYPERCALL(HC_event_channel_op, cmd, arg, 0, 0, 0); }
static inline long port_op(int cmd, u32 port) { u32 p = port; return evtchn_op(cmd, &p); }
static inline long alloc_unbound(u16 dom, u16 remote, u32 *port)
{
    struct evtchn_alloc_unbound a = { dom, remote, 0xdead };
    long rc = evtchn_op(EVTCHNOP_alloc_unbound, &a);
    *port = a.port;
    return rc;
}
static inline long bind_interdomain(u16 rdom, u32 rport, u32 *port)
{
    struct evtchn_bind_interdomain b = { rdom, 0, rport, 0xdead };
    long rc = evtchn_op(EVTCHNOP_bind_interdomain, &b);
    *port = b.local_port;
    return rc;
}

#endif
