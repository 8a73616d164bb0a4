/*
 * evtchn-ops: every EVTCHNOP of the 2-level ABI, and SCHEDOP_poll/block, checked by the
 * guest itself against Xen (one "ok ..." line per check; the committed expected output
 * is the list of checks). Runs as the initial domain (domain 0, the hardware domain)
 * with two vCPUs; vCPU 1 exists but is never brought up, which is all that binding to
 * it needs (Xen's domain_vcpu()).
 *
 * Facts, from github:xen-project/xen:
 * - xen/include/public/event_channel.h: sub-op numbers and structs, EVTCHNSTAT_closed 0,
 *   unbound 1, interdomain 2, pirq 3, virq 4, ipi 5.
 * - xen/common/event_channel.c: get_free_port() hands out the lowest free port and port
 *   0 is ECS_RESERVED (evtchn_init), so port numbers below are exact; evtchn_allocate_port
 *   fails with -ENOSPC at max_evtchns(d) (BITS_PER_EVTCHN_WORD^2: 4096 for a 64-bit
 *   guest, 1024 for a 32-bit one, event_2l.c; dom0's max_evtchn_port is unlimited). Each
 *   error is cited where it is checked. The same C for x86_64 and 32-bit x86: W is the
 *   event word's width (the arch's EVTCHN_WORD_BITS), LAST_PORT the last port, and the
 *   checks name ports by their place, so both print the same list.
 * - xen/common/event_2l.c: set_pending sets the pending bit; only if it was clear and
 *   the port is unmasked, the notified vCPU's selector bit; only if that was clear,
 *   evtchn_upcall_pending (vcpu_mark_events_pending). unmask redoes the last two when the
 *   mask bit was set and the port is pending.
 * - xen/common/sched/core.c do_poll(): more than 128 ports -EINVAL; 0 at once when a port
 *   is pending; a port that is not valid or not bound -EINVAL (evtchn_port_poll); the
 *   timeout is absolute system time.
 */
#include "xen.h"

#define NR_VIRQS 24
#define BAD_PTR 0x40000000UL /* 1 GiB: far above this guest's mapped memory */
#define W EVTCHN_WORD_BITS
#define LAST_PORT (W * W - 1)

static u8 si_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;
static volatile unsigned upcalls, last_port;

/* The upcall handler (evtchn-entry.S calls it): rt.h's 2-level scan. */
static void on_port(unsigned port)
{
    last_port = port;
}
void evtchn_upcall(void)
{
    upcalls++;
    evtchn_scan(si, on_port);
}
extern void entry_event(void);

static long bind_virq(u32 virq, u32 vcpu, u32 *port)
{
    struct evtchn_bind_virq b = { virq, vcpu, 0xdead };
    long rc = evtchn_op(EVTCHNOP_bind_virq, &b);
    *port = b.port;
    return rc;
}
static long bind_ipi(u32 vcpu, u32 *port)
{
    struct evtchn_bind_ipi b = { vcpu, 0xdead };
    long rc = evtchn_op(EVTCHNOP_bind_ipi, &b);
    *port = b.port;
    return rc;
}
static long bind_vcpu(u32 port, u32 vcpu)
{
    struct evtchn_bind_vcpu b = { port, vcpu };
    return evtchn_op(EVTCHNOP_bind_vcpu, &b);
}
static struct evtchn_status st;
static long status(u16 dom, u32 port)
{
    memset(&st, 0x5a, sizeof(st));
    st.dom = dom;
    st.port = port;
    return evtchn_op(EVTCHNOP_status, &st);
}
static long poll(u32 *ports, u32 nr, u64 timeout)
{
    struct sched_poll sp = { .ports = GUEST_HANDLE(ports), .nr_ports = nr, .timeout = timeout };
    return HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
}

static int bit(volatile unsigned long *words, u32 n) { return (words[n / W] >> (n % W)) & 1; }
static int pending(u32 port) { return bit(si->evtchn_pending, port); }
static void set_mask(u32 port) { __atomic_or_fetch(&si->evtchn_mask[port / W], 1UL << (port % W), __ATOMIC_SEQ_CST); }
static void clear_pending(u32 port) { __atomic_and_fetch(&si->evtchn_pending[port / W], ~(1UL << (port % W)), __ATOMIC_SEQ_CST); }
static unsigned long sel(int vcpu) { return si->vcpu_info[vcpu].evtchn_pending_sel; }
static unsigned upcall_pending(int vcpu) { return si->vcpu_info[vcpu].evtchn_upcall_pending; }
static void clear_vcpu_bits(int vcpu) { si->vcpu_info[vcpu].evtchn_pending_sel = 0; si->vcpu_info[vcpu].evtchn_upcall_pending = 0; }

/* System time (ns) from vCPU 0's vcpu_time_info, as time-timers reads it. */
static u64 now(void) { return vcpu_time_now(&si->vcpu_info[0].time); }

/* A null hypercall: events enabled and pending are delivered on its way back. */
static void null_hypercall(void) { HYPERCALL(HC_xen_version, 0, 0, 0, 0, 0); }

static void alloc_and_interdomain(void)
{
    u32 p, q;
    /* Lowest free port: 0 is reserved (evtchn_init sets ECS_RESERVED), so 1. */
    check("evtchn alloc_unbound(self, remote self) rc", alloc_unbound(DOMID_SELF, DOMID_SELF, &p), 0);
    check("evtchn alloc_unbound gives the lowest free port 1", p, 1);
    check("evtchn status unbound rc", status(DOMID_SELF, 1), 0);
    check("evtchn status unbound: EVTCHNSTAT_unbound", st.status, EVTCHNSTAT_unbound);
    /* remote_dom DOMID_SELF is stored as current->domain->domain_id (0 for dom0). */
    check("evtchn status unbound: remote DOMID_SELF resolved to domain 0", st.u.unbound.dom, 0);
    check("evtchn status unbound: vcpu 0", st.vcpu, 0);
    check("evtchn status by real domid 0 rc", status(0, 1), 0);
    /* rcu_lock_domain_by_any_id() fails: -ESRCH. */
    check("evtchn alloc_unbound(dom 77) ESRCH", alloc_unbound(77, DOMID_SELF, &q), -ESRCH);
    /* do_event_channel_op: copy_from_guest fails: -EFAULT. */
    check("evtchn alloc_unbound(bad pointer) EFAULT", evtchn_op(EVTCHNOP_alloc_unbound, (void *)BAD_PTR), -EFAULT);
    /* remote_dom is not checked for existence (only XSM sees it). */
    check("evtchn alloc_unbound(remote dom 5) rc", alloc_unbound(DOMID_SELF, 5, &q), 0);
    check("evtchn alloc_unbound(remote dom 5) port 2", q, 2);
    status(DOMID_SELF, 2);
    check("evtchn status unbound for dom 5", st.u.unbound.dom, 5);

    /* Loopback: a domain binds its own unbound port (remote_domid == ld->domain_id). */
    check("evtchn bind_interdomain(self, 1) loopback rc", bind_interdomain(DOMID_SELF, 1, &q), 0);
    check("evtchn bind_interdomain local port 3", q, 3);
    status(DOMID_SELF, 1);
    check("evtchn status(1) interdomain", st.status, EVTCHNSTAT_interdomain);
    check("evtchn status(1) interdomain to dom 0", st.u.interdomain.dom, 0);
    check("evtchn status(1) interdomain to port 3", st.u.interdomain.port, 3);
    status(DOMID_SELF, 3);
    check("evtchn status(3) interdomain to port 1", st.u.interdomain.port, 1);
    /* "We may have lost notifications on the remote unbound port": local port set pending. */
    check("evtchn bind_interdomain sets the local port pending", pending(3), 1);
    check("evtchn bind_interdomain: masked port leaves the selector alone", sel(0), 0);
    check("evtchn bind_interdomain: masked port leaves upcall_pending alone", upcall_pending(0), 0);
    clear_pending(3);
    /* rchn->state != ECS_UNBOUND: -EINVAL. */
    check("evtchn bind_interdomain to a bound port EINVAL", bind_interdomain(DOMID_SELF, 1, &q), -EINVAL);
    /* u.unbound.remote_domid != ld->domain_id: -EINVAL. */
    check("evtchn bind_interdomain to a port for dom 5 EINVAL", bind_interdomain(DOMID_SELF, 2, &q), -EINVAL);
    /* _evtchn_from_port() NULL (port not valid): -EINVAL. */
    check("evtchn bind_interdomain to invalid port 4000 EINVAL", bind_interdomain(DOMID_SELF, 4000, &q), -EINVAL);
    check("evtchn bind_interdomain to reserved port 0 EINVAL", bind_interdomain(DOMID_SELF, 0, &q), -EINVAL);
    check("evtchn bind_interdomain(dom 77) ESRCH", bind_interdomain(77, 1, &q), -ESRCH);
    check("evtchn bind_interdomain(bad pointer) EFAULT", evtchn_op(EVTCHNOP_bind_interdomain, (void *)BAD_PTR), -EFAULT);
    /* The failed binds allocated and gave back a local port (check_free_port): 4 is next. */
    check("evtchn alloc_unbound after failed binds reuses port 4", alloc_unbound(DOMID_SELF, DOMID_SELF, &q) == 0 ? (long)q : -1, 4);
    check("evtchn close unbound port 4", port_op(EVTCHNOP_close, 4), 0);
    check("evtchn close unbound port 2 (for dom 5)", port_op(EVTCHNOP_close, 2), 0);
}

static void send_and_bits(void)
{
    /* Port 3 (loopback end of 1) masked; events disabled (upcall_mask 1). */
    check("evtchn send(1) rc", port_op(EVTCHNOP_send, 1), 0);
    check("evtchn send to masked port: pending set", pending(3), 1);
    check("evtchn send to masked port: selector not set", sel(0), 0);
    check("evtchn send to masked port: upcall_pending not set", upcall_pending(0), 0);
    /* unmask of a pending port: selector, then upcall_pending (events still disabled). */
    check("evtchn unmask(3) rc", port_op(EVTCHNOP_unmask, 3), 0);
    check("evtchn unmask clears the mask bit", bit(si->evtchn_mask, 3), 0);
    check("evtchn unmask of a pending port sets selector bit 0", sel(0), 1);
    check("evtchn unmask of a pending port sets upcall_pending", upcall_pending(0), 1);
    check("evtchn no upcall while evtchn_upcall_mask is set", upcalls, 0);
    /* Enable events: the upcall runs on the way back from the next hypercall. */
    si->vcpu_info[0].evtchn_upcall_mask = 0;
    null_hypercall();
    check("evtchn upcall re-raised by unmask is delivered once enabled", upcalls, 1);
    check("evtchn upcall reports port 3", last_port, 3);
    check("evtchn handler consumed the pending bit", pending(3), 0);
    /* Unmasked, events enabled: the upcall comes as the send returns. */
    upcalls = 0;
    port_op(EVTCHNOP_send, 1);
    check("evtchn send to unmasked port: upcall at once", upcalls, 1);
    check("evtchn send to unmasked port: port 3", last_port, 3);

    /* Events disabled again; exact bit semantics of evtchn_2l_set_pending. */
    si->vcpu_info[0].evtchn_upcall_mask = 1;
    upcalls = 0;
    port_op(EVTCHNOP_send, 1);
    check("evtchn send: pending, selector, upcall_pending all set", pending(3) + (int)sel(0) + upcall_pending(0), 3);
    /* Pending already set: test_and_set_bit returns early, nothing else is touched. */
    clear_vcpu_bits(0);
    port_op(EVTCHNOP_send, 1);
    check("evtchn send to an already pending port leaves the selector clear", sel(0), 0);
    check("evtchn send to an already pending port leaves upcall_pending clear", upcall_pending(0), 0);
    /* Selector bit already set: upcall_pending is not set again. */
    clear_pending(3);
    si->vcpu_info[0].evtchn_pending_sel = 1;
    port_op(EVTCHNOP_send, 1);
    check("evtchn send with the selector bit already set: pending set", pending(3), 1);
    check("evtchn send with the selector bit already set: upcall_pending stays clear", upcall_pending(0), 0);
    clear_pending(3);
    clear_vcpu_bits(0);

    /* unmask of a port that is not pending: only the mask bit changes. */
    set_mask(3);
    check("evtchn unmask(3) not pending rc", port_op(EVTCHNOP_unmask, 3), 0);
    check("evtchn unmask of a non-pending port: selector stays clear", sel(0), 0);
    set_mask(3);
    /* _evtchn_from_port() NULL: -EINVAL; a valid free port is accepted (evtchn_usable). */
    check("evtchn unmask(last port) not valid EINVAL", port_op(EVTCHNOP_unmask, LAST_PORT), -EINVAL);
    check("evtchn unmask(60) valid free port rc", port_op(EVTCHNOP_unmask, 60), 0);
    set_mask(60);
    check("evtchn unmask(bad pointer) EFAULT", evtchn_op(EVTCHNOP_unmask, (void *)BAD_PTR), -EFAULT);

    /* A port in the second selector word (W..2W-1): W, and W + 1 its loopback peer. */
    u32 p = 0, q = 0;
    u32 n = 0;
    while (p < W && n++ < 100) alloc_unbound(DOMID_SELF, DOMID_SELF, &p);
    check("evtchn alloc_unbound reaches port W, the second word's first (next bucket)", p, W);
    check("evtchn bind_interdomain(self, W) local port W + 1", bind_interdomain(DOMID_SELF, W, &q) == 0 ? (long)q : -1, W + 1);
    clear_pending(W + 1);
    port_op(EVTCHNOP_unmask, W + 1);
    check("evtchn send(W) rc", port_op(EVTCHNOP_send, W), 0);
    check("evtchn port W + 1 pending in word 1", (long)(si->evtchn_pending[1] >> 1) & 1, 1);
    check("evtchn port W + 1 sets selector bit 1", sel(0), 2);
    check("evtchn port W + 1 sets upcall_pending", upcall_pending(0), 1);
    clear_pending(W + 1);
    clear_vcpu_bits(0);
    /* The loop took 2 and 4..W (lowest free first); W + 1 is W's loopback peer. */
    port_op(EVTCHNOP_close, 2);
    for (u32 i = 4; i <= W + 1; i++) port_op(EVTCHNOP_close, i);
    check("evtchn status(W) closed after close", status(DOMID_SELF, W) == 0 ? (long)st.status : -1, EVTCHNSTAT_closed);

    /* send errors (evtchn_send): invalid port -EINVAL; state not interdomain/IPI/unbound -EINVAL. */
    check("evtchn send(last port) not valid EINVAL", port_op(EVTCHNOP_send, LAST_PORT), -EINVAL);
    check("evtchn send(0) reserved EINVAL", port_op(EVTCHNOP_send, 0), -EINVAL);
    check("evtchn send(60) free EINVAL", port_op(EVTCHNOP_send, 60), -EINVAL);
    check("evtchn send(bad pointer) EFAULT", evtchn_op(EVTCHNOP_send, (void *)BAD_PTR), -EFAULT);
}

static u32 ipi0, ipi1, timer0, timer1, console, argo;

static void ipis_and_virqs(void)
{
    u32 q;
    /* Ports 1 and 3 are the loopback pair; 2 is free again. */
    check("evtchn bind_ipi(vcpu 0) rc", bind_ipi(0, &ipi0), 0);
    check("evtchn bind_ipi(vcpu 0) port 2", ipi0, 2);
    status(DOMID_SELF, ipi0);
    check("evtchn status ipi: EVTCHNSTAT_ipi", st.status, EVTCHNSTAT_ipi);
    check("evtchn status ipi: vcpu 0", st.vcpu, 0);
    check("evtchn bind_ipi(vcpu 1) rc", bind_ipi(1, &ipi1), 0);
    check("evtchn bind_ipi(vcpu 1) port 4", ipi1, 4);
    status(DOMID_SELF, ipi1);
    check("evtchn status ipi: vcpu 1", st.vcpu, 1);
    /* domain_vcpu() NULL: -ENOENT. */
    check("evtchn bind_ipi(vcpu 2) ENOENT", bind_ipi(2, &q), -ENOENT);
    check("evtchn bind_ipi(vcpu 0xffffffff) ENOENT", bind_ipi(0xffffffffu, &q), -ENOENT);
    check("evtchn bind_ipi(bad pointer) EFAULT", evtchn_op(EVTCHNOP_bind_ipi, (void *)BAD_PTR), -EFAULT);
    /* send on an IPI port notifies the bound vCPU of the same domain. */
    port_op(EVTCHNOP_unmask, ipi0);
    port_op(EVTCHNOP_unmask, ipi1);
    check("evtchn send(ipi vcpu 0) rc", port_op(EVTCHNOP_send, ipi0), 0);
    check("evtchn ipi to vcpu 0: pending", pending(ipi0), 1);
    check("evtchn ipi to vcpu 0: vcpu 0 selector", sel(0), 1);
    check("evtchn ipi to vcpu 0: vcpu 0 upcall_pending", upcall_pending(0), 1);
    clear_pending(ipi0);
    clear_vcpu_bits(0);
    check("evtchn send(ipi vcpu 1) rc", port_op(EVTCHNOP_send, ipi1), 0);
    check("evtchn ipi to vcpu 1: pending", pending(ipi1), 1);
    check("evtchn ipi to vcpu 1: vcpu 1 selector", sel(1), 1);
    check("evtchn ipi to vcpu 1: vcpu 1 upcall_pending", upcall_pending(1), 1);
    check("evtchn ipi to vcpu 1: vcpu 0 selector untouched", sel(0), 0);
    check("evtchn ipi to vcpu 1: vcpu 0 upcall_pending untouched", upcall_pending(0), 0);
    clear_pending(ipi1);
    clear_vcpu_bits(1);
    set_mask(ipi0);
    set_mask(ipi1);

    /* VIRQs. VIRQ_TIMER is per-vCPU (get_virq_type VIRQ_VCPU): one binding per vCPU. */
    check("evtchn bind_virq(timer, vcpu 0) rc", bind_virq(VIRQ_TIMER, 0, &timer0), 0);
    check("evtchn bind_virq(timer, vcpu 0) port 5", timer0, 5);
    status(DOMID_SELF, timer0);
    check("evtchn status virq: EVTCHNSTAT_virq", st.status, EVTCHNSTAT_virq);
    check("evtchn status virq: virq 0", st.u.virq, VIRQ_TIMER);
    check("evtchn status virq: vcpu 0", st.vcpu, 0);
    /* v->virq_to_evtchn[virq] already set: -EEXIST. */
    check("evtchn bind_virq(timer, vcpu 0) again EEXIST", bind_virq(VIRQ_TIMER, 0, &q), -EEXIST);
    check("evtchn bind_virq(timer, vcpu 1) per-vCPU rc", bind_virq(VIRQ_TIMER, 1, &timer1), 0);
    check("evtchn bind_virq(timer, vcpu 1) port 6", timer1, 6);
    status(DOMID_SELF, timer1);
    check("evtchn status virq on vcpu 1: vcpu 1", st.vcpu, 1);
    check("evtchn bind_virq(timer, vcpu 1) again EEXIST", bind_virq(VIRQ_TIMER, 1, &q), -EEXIST);
    check("evtchn bind_virq(debug, vcpu 1) per-vCPU rc", bind_virq(VIRQ_DEBUG, 1, &q), 0);
    port_op(EVTCHNOP_close, q);
    /* virq < 0 || virq >= NR_VIRQS: -EINVAL. */
    check("evtchn bind_virq(24 = NR_VIRQS) EINVAL", bind_virq(NR_VIRQS, 0, &q), -EINVAL);
    check("evtchn bind_virq(-1) EINVAL", bind_virq(0xffffffffu, 0, &q), -EINVAL);
    /* type != VIRQ_VCPU && vcpu != 0: -EINVAL (global and per-domain VIRQs). */
    check("evtchn bind_virq(console, vcpu 1) global on vcpu 1 EINVAL", bind_virq(VIRQ_CONSOLE, 1, &q), -EINVAL);
    check("evtchn bind_virq(argo, vcpu 1) per-domain on vcpu 1 EINVAL", bind_virq(VIRQ_ARGO, 1, &q), -EINVAL);
    /* domain_vcpu() NULL: -ENOENT. */
    check("evtchn bind_virq(timer, vcpu 2) ENOENT", bind_virq(VIRQ_TIMER, 2, &q), -ENOENT);
    /* The hardware domain is the default handler of global VIRQs (get_global_virq_handler). */
    check("evtchn bind_virq(console, vcpu 0) by the hardware domain rc", bind_virq(VIRQ_CONSOLE, 0, &console), 0);
    check("evtchn bind_virq(console) again EEXIST", bind_virq(VIRQ_CONSOLE, 0, &q), -EEXIST);
    check("evtchn bind_virq(argo, vcpu 0) rc", bind_virq(VIRQ_ARGO, 0, &argo), 0);
    check("evtchn bind_virq(bad pointer) EFAULT", evtchn_op(EVTCHNOP_bind_virq, (void *)BAD_PTR), -EFAULT);
    /* evtchn_send: a VIRQ port cannot be sent on (default case). */
    check("evtchn send on a VIRQ port EINVAL", port_op(EVTCHNOP_send, timer0), -EINVAL);
}

static void bind_vcpu_ops(void)
{
    /* evtchn_bind_vcpu: unbound, interdomain and non-per-vCPU VIRQ ports move; per-vCPU
     * VIRQs and IPIs (default case) -EINVAL; domain_vcpu() NULL -ENOENT first. */
    check("evtchn bind_vcpu(interdomain 3, vcpu 1) rc", bind_vcpu(3, 1), 0);
    check("evtchn status(3) vcpu 1 after bind_vcpu", status(DOMID_SELF, 3) == 0 ? (long)st.vcpu : -1, 1);
    clear_pending(3);
    port_op(EVTCHNOP_unmask, 3);
    port_op(EVTCHNOP_send, 1);
    check("evtchn interdomain bound to vcpu 1: vcpu 1 selector", sel(1), 1);
    check("evtchn interdomain bound to vcpu 1: vcpu 1 upcall_pending", upcall_pending(1), 1);
    check("evtchn interdomain bound to vcpu 1: vcpu 0 untouched", (long)sel(0) + upcall_pending(0), 0);
    clear_pending(3);
    clear_vcpu_bits(1);
    set_mask(3);
    check("evtchn bind_vcpu(interdomain 3, vcpu 0) back rc", bind_vcpu(3, 0), 0);
    u32 u;
    alloc_unbound(DOMID_SELF, DOMID_SELF, &u);
    check("evtchn bind_vcpu(unbound, vcpu 1) rc", bind_vcpu(u, 1), 0);
    check("evtchn status unbound: vcpu 1", status(DOMID_SELF, u) == 0 ? (long)st.vcpu : -1, 1);
    port_op(EVTCHNOP_close, u);
    /* evtchn_free resets the binding to vCPU 0. */
    check("evtchn close resets the notify vcpu to 0", status(DOMID_SELF, u) == 0 ? (long)st.vcpu : -1, 0);
    check("evtchn bind_vcpu(global virq console, vcpu 1) rc", bind_vcpu(console, 1), 0);
    check("evtchn status console virq: vcpu 1", status(DOMID_SELF, console) == 0 ? (long)st.vcpu : -1, 1);
    check("evtchn bind_vcpu(per-domain virq argo, vcpu 1) rc", bind_vcpu(argo, 1), 0);
    check("evtchn bind_vcpu(per-vCPU virq timer, vcpu 1) EINVAL", bind_vcpu(timer0, 1), -EINVAL);
    check("evtchn bind_vcpu(ipi, vcpu 1) EINVAL", bind_vcpu(ipi0, 1), -EINVAL);
    check("evtchn bind_vcpu(free port 60) EINVAL", bind_vcpu(60, 0), -EINVAL);
    check("evtchn bind_vcpu(reserved port 0) EINVAL", bind_vcpu(0, 0), -EINVAL);
    check("evtchn bind_vcpu(last port, not valid) EINVAL", bind_vcpu(LAST_PORT, 0), -EINVAL);
    check("evtchn bind_vcpu(vcpu 2) ENOENT before the port check", bind_vcpu(LAST_PORT, 2), -ENOENT);
    check("evtchn bind_vcpu(bad pointer) EFAULT", evtchn_op(EVTCHNOP_bind_vcpu, (void *)BAD_PTR), -EFAULT);
}

static void status_and_close(void)
{
    /* evtchn_status: ECS_FREE and ECS_RESERVED read EVTCHNSTAT_closed. */
    check("evtchn status(0) reserved rc", status(DOMID_SELF, 0), 0);
    check("evtchn status(0) reserved: EVTCHNSTAT_closed", st.status, EVTCHNSTAT_closed);
    check("evtchn status(60) free: EVTCHNSTAT_closed", status(DOMID_SELF, 60) == 0 ? (long)st.status : -1, EVTCHNSTAT_closed);
    check("evtchn status(last port) not valid EINVAL", status(DOMID_SELF, LAST_PORT), -EINVAL);
    check("evtchn status(dom 77) ESRCH", status(77, 1), -ESRCH);
    check("evtchn status(bad pointer) EFAULT", evtchn_op(EVTCHNOP_status, (void *)BAD_PTR), -EFAULT);

    /* evtchn_close: interdomain: this end freed, the other end unbound for this domain. */
    port_op(EVTCHNOP_send, 1); /* leaves port 3 pending */
    check("evtchn close(3) interdomain rc", port_op(EVTCHNOP_close, 3), 0);
    check("evtchn close clears the pending bit (evtchn_free)", pending(3), 0);
    check("evtchn status(3) closed", status(DOMID_SELF, 3) == 0 ? (long)st.status : -1, EVTCHNSTAT_closed);
    status(DOMID_SELF, 1);
    check("evtchn peer of a closed port: unbound", st.status, EVTCHNSTAT_unbound);
    check("evtchn peer of a closed port: unbound for dom 0", st.u.unbound.dom, 0);
    check("evtchn send on the unbound peer is dropped: rc 0", port_op(EVTCHNOP_send, 1), 0);
    check("evtchn send on the unbound peer is dropped: nothing pending", pending(1) + pending(3), 0);
    check("evtchn close(3) again EINVAL", port_op(EVTCHNOP_close, 3), -EINVAL);
    check("evtchn close(0) reserved EINVAL", port_op(EVTCHNOP_close, 0), -EINVAL);
    check("evtchn close(last port) not valid EINVAL", port_op(EVTCHNOP_close, LAST_PORT), -EINVAL);
    check("evtchn close(bad pointer) EFAULT", evtchn_op(EVTCHNOP_close, (void *)BAD_PTR), -EFAULT);
    u32 q;
    check("evtchn rebind the unbound peer: lowest free local port 3", bind_interdomain(DOMID_SELF, 1, &q) == 0 ? (long)q : -1, 3);
    clear_pending(3);
    /* Closing a VIRQ port clears virq_to_evtchn: the VIRQ can be bound again. */
    check("evtchn close(timer vcpu 1) rc", port_op(EVTCHNOP_close, timer1), 0);
    check("evtchn bind_virq(timer, vcpu 1) after close rc", bind_virq(VIRQ_TIMER, 1, &timer1), 0);
    check("evtchn close(ipi vcpu 1) rc", port_op(EVTCHNOP_close, ipi1), 0);
}

static void poll_and_block(void)
{
    u32 ports[2] = { ipi0, 3 };
    u32 bad[2] = { ipi0, LAST_PORT };
    u32 freep[1] = { 60 };
    u64 t0, t1;

    si->vcpu_info[0].evtchn_upcall_mask = 1;
    /* do_poll: nr_ports > 128 -EINVAL. */
    check("evtchn poll(129 ports) EINVAL", poll(ports, 129, 0), -EINVAL);
    check("evtchn poll(last port, not valid) EINVAL", poll(bad, 2, 0), -EINVAL);
    check("evtchn poll(free port 60) EINVAL", poll(freep, 1, 0), -EINVAL);
    check("evtchn poll(bad ports pointer) EFAULT", poll((u32 *)BAD_PTR, 1, 0), -EFAULT);
    check("evtchn poll(bad struct pointer) EFAULT", HYPERCALL(HC_sched_op, SCHEDOP_poll, BAD_PTR, 0, 0, 0), -EFAULT);
    /* A pending (masked) port: returns 0 at once, before the timeout. */
    port_op(EVTCHNOP_send, ipi0);
    t0 = now();
    check("evtchn poll(pending ipi) rc", poll(ports, 2, t0 + 5000000000ULL), 0);
    t1 = now();
    check("evtchn poll(pending ipi) returns before the timeout", t1 - t0 < 1000000000ULL, 1);
    clear_pending(ipi0);
    /* Nothing pending: sleeps until the absolute timeout. */
    t0 = now();
    check("evtchn poll(nothing pending, timeout +30 ms) rc", poll(ports, 2, t0 + 30000000ULL), 0);
    t1 = now();
    check("evtchn poll ends at the timeout", t1 >= t0 + 30000000ULL, 1);
    check("evtchn poll timeout: no upcall", upcalls, 0);
    /* The polled port firing ends the poll early: VIRQ_TIMER from set_timer_op. */
    u32 tp[1] = { timer0 };
    t0 = now();
    SET_TIMER_OP(t0 + 2000000ULL);
    check("evtchn poll(timer port, timeout +10 s) rc", poll(tp, 1, t0 + 10000000000ULL), 0);
    t1 = now();
    check("evtchn poll woken by the timer VIRQ before the timeout", t1 >= t0 + 2000000ULL && t1 - t0 < 1000000000ULL, 1);
    check("evtchn poll wake: timer port pending", pending(timer0), 1);
    check("evtchn poll wake on a masked port: no upcall", upcalls, 0);
    clear_pending(timer0);
    /* Polling several ports (or none) leaves poll_evtchn at -1: evtchn_check_pollers wakes
     * the vCPU for any port of the domain, listed or not. One port: only that port. */
    t0 = now();
    SET_TIMER_OP(t0 + 2000000ULL);
    check("evtchn poll(2 ports, timeout +10 s) rc", poll(ports, 2, t0 + 10000000000ULL), 0);
    t1 = now();
    check("evtchn poll of 2 ports woken early by an unlisted port (timer)", t1 >= t0 + 2000000ULL && t1 - t0 < 1000000000ULL, 1);
    clear_pending(timer0);
    t0 = now();
    SET_TIMER_OP(t0 + 2000000ULL);
    check("evtchn poll(0 ports, timeout +10 s) rc", poll(ports, 0, t0 + 10000000000ULL), 0);
    t1 = now();
    check("evtchn poll of no ports woken early by any port (timer)", t1 >= t0 + 2000000ULL && t1 - t0 < 1000000000ULL, 1);
    clear_pending(timer0);
    u32 one[1] = { ipi0 };
    t0 = now();
    SET_TIMER_OP(t0 + 2000000ULL);
    check("evtchn poll(1 other port, timeout +20 ms) rc", poll(one, 1, t0 + 20000000ULL), 0);
    t1 = now();
    check("evtchn poll of one port sleeps through another port's event to the timeout", t1 >= t0 + 20000000ULL, 1);
    check("evtchn the other port's event is still pending", pending(timer0), 1);
    clear_pending(timer0);

    /* SCHEDOP_block: enables events (clears evtchn_upcall_mask), sleeps until an event. */
    port_op(EVTCHNOP_unmask, timer0);
    upcalls = 0;
    last_port = 0;
    t0 = now();
    SET_TIMER_OP(t0 + 3000000ULL);
    check("evtchn block rc", HYPERCALL(HC_sched_op, SCHEDOP_block, 0, 0, 0, 0), 0);
    t1 = now();
    check("evtchn block slept until the timer", t1 >= t0 + 3000000ULL, 1);
    check("evtchn block woken by the timer: one upcall", upcalls, 1);
    check("evtchn block woken by the timer: port", last_port, timer0);
    check("evtchn block cleared evtchn_upcall_mask", si->vcpu_info[0].evtchn_upcall_mask, 0);
    si->vcpu_info[0].evtchn_upcall_mask = 1;
    set_mask(timer0);
}

static void reset_and_limits(void)
{
    u16 self = DOMID_SELF, other = 77;
    u32 q;
    check("evtchn reset(dom 77) ESRCH", evtchn_op(EVTCHNOP_reset, &other), -ESRCH);
    check("evtchn reset(bad pointer) EFAULT", evtchn_op(EVTCHNOP_reset, (void *)BAD_PTR), -EFAULT);
    check("evtchn reset(self) rc", evtchn_op(EVTCHNOP_reset, &self), 0);
    check("evtchn reset closed the interdomain port", status(DOMID_SELF, 1) == 0 ? (long)st.status : -1, EVTCHNSTAT_closed);
    check("evtchn reset closed the VIRQ port", status(DOMID_SELF, timer0) == 0 ? (long)st.status : -1, EVTCHNSTAT_closed);
    check("evtchn reset closed the IPI port", status(DOMID_SELF, ipi0) == 0 ? (long)st.status : -1, EVTCHNSTAT_closed);
    check("evtchn bind_virq(timer, vcpu 0) after reset: port 1", bind_virq(VIRQ_TIMER, 0, &q) == 0 ? (long)q : -1, 1);

    /* Fill the table: ports 2..LAST_PORT (BITS_PER_EVTCHN_WORD^2 ports), then -ENOSPC. */
    long rc = 0;
    u32 last = 0, n = 0;
    for (;;) {
        rc = alloc_unbound(DOMID_SELF, DOMID_SELF, &q);
        if (rc) break;
        last = q;
        n++;
    }
    check("evtchn alloc_unbound until full: every port but 0 and 1 (W * W - 2 more)", n, LAST_PORT - 1);
    check("evtchn alloc_unbound until full: the last is port W * W - 1", last, LAST_PORT);
    check("evtchn alloc_unbound on a full table ENOSPC", rc, -ENOSPC);
    check("evtchn bind_ipi on a full table ENOSPC", bind_ipi(0, &q), -ENOSPC);
    check("evtchn bind_virq on a full table ENOSPC", bind_virq(VIRQ_TIMER, 1, &q), -ENOSPC);
    check("evtchn bind_interdomain on a full table ENOSPC", bind_interdomain(DOMID_SELF, LAST_PORT, &q), -ENOSPC);
    check("evtchn send(last port) unbound rc", port_op(EVTCHNOP_send, LAST_PORT), 0);
    check("evtchn close(last port) rc", port_op(EVTCHNOP_close, LAST_PORT), 0);
    check("evtchn alloc_unbound after a close gets the last port", alloc_unbound(DOMID_SELF, DOMID_SELF, &q) == 0 ? (long)q : -1, LAST_PORT);
    check("evtchn reset of a full table rc", evtchn_op(EVTCHNOP_reset, &self), 0);
    check("evtchn after reset: the last port closed", status(DOMID_SELF, LAST_PORT) == 0 ? (long)st.status : -1, EVTCHNSTAT_closed);
    check("evtchn after reset: alloc_unbound gives port 1", alloc_unbound(DOMID_SELF, DOMID_SELF, &q) == 0 ? (long)q : -1, 1);
}

int guest_main(void)
{
    map_shared_info(si_page);
    register_event_callback(entry_event);
    for (int i = 0; i < W; i++) si->evtchn_mask[i] = ~0UL;
    check("evtchn events start disabled (evtchn_upcall_mask 1)", si->vcpu_info[0].evtchn_upcall_mask, 1);

    alloc_and_interdomain();
    send_and_bits();
    ipis_and_virqs();
    bind_vcpu_ops();
    status_and_close();
    poll_and_block();
    reset_and_limits();
    /* do_event_channel_op: an unknown sub-op is -ENOSYS. */
    u32 junk = 0;
    check("evtchn event_channel_op unknown cmd 99 ENOSYS", evtchn_op(99, &junk), -ENOSYS);
    print("evtchn-ops done\n");
    return 0;
}
