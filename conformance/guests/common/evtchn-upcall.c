/*
 * Event channels with the 2-level ABI, seen from a PV guest: allocate ports, connect a
 * loopback interdomain channel and an IPI to itself, watch the pending / selector /
 * upcall_pending bits in shared_info, receive upcalls on unmask and through
 * SCHEDOP_block, poll with SCHEDOP_poll, and check the documented errors.
 * Layouts from xen/include/public/xen.h and event_channel.h, as the arch's xen.h declares
 * them (the same C for x86_64 and 32-bit x86).
 */
#include "xen.h"

static u8 si_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;

static u32 seen[16];
static unsigned nseen, upcalls;

/* The upcall handler (evtchn-entry.S calls it): rt.h's 2-level scan. */
static void on_port(unsigned port)
{
    if (nseen < 16) seen[nseen++] = port;
}
void evtchn_upcall(void)
{
    upcalls++;
    evtchn_scan(si, on_port);
}

static void show_seen(const char *what)
{
    printk("%s: %u upcall(s), ports", what, upcalls);
    for (unsigned i = 0; i < nseen; i++) printk(" %u", seen[i]);
    printk("\n");
    nseen = upcalls = 0;
}

static void show_bits(const char *what, u32 port)
{
    printk("%s: pending %u masked %u sel %lx upcall_pending %u\n", what,
           (unsigned)((si->evtchn_pending[port / EVTCHN_WORD_BITS] >> (port % EVTCHN_WORD_BITS)) & 1),
           (unsigned)((si->evtchn_mask[port / EVTCHN_WORD_BITS] >> (port % EVTCHN_WORD_BITS)) & 1),
           si->vcpu_info[0].evtchn_pending_sel, si->vcpu_info[0].evtchn_upcall_pending);
}

static void show_status(u32 port)
{
    struct evtchn_status st = { DOMID_SELF, 0, port, 99, 99, { { 0 } } };
    long rc = evtchn_op(EVTCHNOP_status, &st);
    printk("status(%u): rc %ld status %u vcpu %u", port, rc, st.status, st.vcpu);
    if (st.status == 1) printk(" unbound for dom %u", st.u.unbound.dom);
    if (st.status == 2) printk(" to dom %u port %u", st.u.interdomain.dom, st.u.interdomain.port);
    if (st.status == 4) printk(" virq %u", st.u.virq);
    printk("\n");
}

static void mask(u32 port) { __atomic_or_fetch(&si->evtchn_mask[port / EVTCHN_WORD_BITS], 1UL << (port % EVTCHN_WORD_BITS), __ATOMIC_SEQ_CST); }

extern void entry_event(void);

int guest_main(void)
{
    long rc;
    rc = map_shared_info(si_page);
    printk("map shared_info: %ld, upcall mask %u\n", rc, si->vcpu_info[0].evtchn_upcall_mask);
    rc = register_event_callback(entry_event);
    printk("register event callback: %ld\n", rc);
    for (int i = 0; i < EVTCHN_WORD_BITS; i++) si->evtchn_mask[i] = ~0UL;

    /* A loopback interdomain channel: an unbound port for ourselves, then bind to it. */
    struct evtchn_alloc_unbound au = { DOMID_SELF, DOMID_SELF, 0 };
    rc = evtchn_op(EVTCHNOP_alloc_unbound, &au);
    u32 a = au.port;
    printk("alloc_unbound: %ld port %u\n", rc, a);
    show_status(a);
    struct evtchn_bind_interdomain bi = { DOMID_SELF, 0, a, 0 };
    rc = evtchn_op(EVTCHNOP_bind_interdomain, &bi);
    u32 b = bi.local_port;
    printk("bind_interdomain: %ld local port %u\n", rc, b);
    show_status(a);
    show_status(b);
    show_bits("after bind (masked)", b);
    si->evtchn_pending[0] = 0;

    struct evtchn_bind_ipi ipi = { 0, 0 };
    rc = evtchn_op(EVTCHNOP_bind_ipi, &ipi);
    u32 c = ipi.port;
    printk("bind_ipi: %ld port %u\n", rc, c);
    show_status(c);

    /* Masked: send sets only the pending bit. */
    rc = port_op(EVTCHNOP_send, a);
    printk("send(%u): %ld\n", a, rc);
    show_bits("masked", b);

    /* Enable events, then unmask: the pending port raises the upcall. */
    si->vcpu_info[0].evtchn_upcall_mask = 0;
    rc = port_op(EVTCHNOP_unmask, b);
    printk("unmask(%u): %ld\n", b, rc);
    show_seen("after unmask");
    show_bits("after the handler", b);

    /* Unmasked with events enabled: the upcall arrives as the send returns. */
    port_op(EVTCHNOP_unmask, a);
    rc = port_op(EVTCHNOP_send, b);
    printk("send(%u): %ld\n", b, rc);
    show_seen("after send");

    /* Events disabled: the IPI waits; SCHEDOP_block enables events, does not sleep. */
    rc = port_op(EVTCHNOP_unmask, c);
    si->vcpu_info[0].evtchn_upcall_mask = 1;
    rc = port_op(EVTCHNOP_send, c);
    printk("send(%u) with events off: %ld, upcalls %u, upcall_pending %u\n", c, rc, upcalls,
           si->vcpu_info[0].evtchn_upcall_pending);
    rc = HYPERCALL(HC_sched_op, SCHEDOP_block, 0, 0, 0, 0);
    printk("block: %ld, upcall mask now %u\n", rc, si->vcpu_info[0].evtchn_upcall_mask);
    show_seen("after block");

    /* Poll: a pending masked port returns at once; otherwise the timeout ends it. */
    mask(c);
    si->vcpu_info[0].evtchn_upcall_mask = 1;
    port_op(EVTCHNOP_send, c);
    u32 ports[2] = { c, b };
    struct sched_poll sp = { .ports = GUEST_HANDLE(ports), .nr_ports = 1 };
    rc = HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
    printk("poll(pending %u): %ld\n", c, rc);
    si->evtchn_pending[0] = 0;
    sp.nr_ports = 2;
    sp.timeout = 20000000000ULL; /* 20 s of system time */
    rc = HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
    printk("poll(%u, %u) until the timeout: %ld, upcalls %u\n", c, b, rc, upcalls);
    sp.nr_ports = 129;
    printk("poll(129 ports): %ld\n", HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0));
    ports[1] = 4000;
    sp.nr_ports = 2;
    printk("poll(bad port): %ld\n", HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0));

    /* Close one end: the other becomes unbound again, and bindable. */
    rc = port_op(EVTCHNOP_close, b);
    printk("close(%u): %ld\n", b, rc);
    show_status(a);
    printk("send(%u) to nobody: %ld\n", a, port_op(EVTCHNOP_send, a));
    printk("close(%u) again: %ld\n", b, port_op(EVTCHNOP_close, b));

    /* VIRQs and errors. */
    struct evtchn_bind_virq bv = { VIRQ_TIMER, 0, 0 };
    rc = evtchn_op(EVTCHNOP_bind_virq, &bv);
    printk("bind_virq(timer): %ld port %u\n", rc, bv.port);
    show_status(bv.port);
    printk("bind_virq(timer) again: %ld\n", evtchn_op(EVTCHNOP_bind_virq, &bv));
    bv.virq = 24;
    printk("bind_virq(24): %ld\n", evtchn_op(EVTCHNOP_bind_virq, &bv));
    ipi.vcpu = 5;
    printk("bind_ipi(vcpu 5): %ld\n", evtchn_op(EVTCHNOP_bind_ipi, &ipi));
    struct evtchn_bind_vcpu bvc = { c, 0 };
    printk("bind_vcpu(ipi %u): %ld\n", c, evtchn_op(EVTCHNOP_bind_vcpu, &bvc));
    printk("send(4095): %ld\n", port_op(EVTCHNOP_send, 4095));
    printk("send(%u) on a VIRQ: %ld\n", bv.port, port_op(EVTCHNOP_send, bv.port));
    printk("status(bad pointer): %ld\n", evtchn_op(EVTCHNOP_status, (void *)0x40000000));
    au.dom = 77;
    printk("alloc_unbound(dom 77): %ld\n", evtchn_op(EVTCHNOP_alloc_unbound, &au));

    /* Reset: every port closed. */
    u16 self = DOMID_SELF;
    printk("reset: %ld\n", evtchn_op(EVTCHNOP_reset, &self));
    show_status(a);
    show_status(c);
    return 0;
}
