/*
 * SCHEDOP_block and SCHEDOP_poll woken by a later event: the guest binds VIRQ_TIMER,
 * arms its single-shot timer with set_timer_op, blocks with nothing pending and must be
 * woken by the timer's event (upcall taken on the way back); then polls the masked timer
 * port with no timeout and must be woken by the next timer event without an upcall.
 * Layouts from xen/include/public/xen.h and event_channel.h, as the arch's xen.h declares
 * them (the same C for x86_64 and 32-bit x86).
 */
#include "xen.h"

static u8 si_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;
static volatile unsigned upcalls, last_port;

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

int guest_main(void)
{
    long rc;
    map_shared_info(si_page);
    register_event_callback(entry_event);
    for (int i = 0; i < EVTCHN_WORD_BITS; i++) si->evtchn_mask[i] = ~0UL;

    struct evtchn_bind_virq bv = { VIRQ_TIMER, 0, 0 };
    rc = HYPERCALL(HC_event_channel_op, EVTCHNOP_bind_virq, &bv, 0, 0, 0);
    u32 port = bv.port;
    printk("bind_virq(timer): %ld port %u\n", rc, port);
    rc = HYPERCALL(HC_event_channel_op, EVTCHNOP_unmask, &port, 0, 0, 0);
    printk("unmask: %ld\n", rc);

    /* Block with nothing pending: only the timer, 50 ms of system time away, wakes us. */
    rc = SET_TIMER_OP(50000000ULL);
    printk("set_timer_op(50 ms): %ld; upcall mask %u, pending %u\n", rc,
           si->vcpu_info[0].evtchn_upcall_mask, si->vcpu_info[0].evtchn_upcall_pending);
    rc = HYPERCALL(HC_sched_op, SCHEDOP_block, 0, 0, 0, 0);
    printk("block: %ld, woken with %u upcall(s), last port %u\n", rc, upcalls, last_port);

    /* Poll the masked timer port with no timeout: the next timer event ends it, no upcall. */
    si->evtchn_mask[port / EVTCHN_WORD_BITS] |= 1UL << (port % EVTCHN_WORD_BITS);
    upcalls = 0;
    rc = SET_TIMER_OP(90000000ULL);
    struct sched_poll sp = { .ports = GUEST_HANDLE(&port), .nr_ports = 1 };
    rc = HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
    printk("poll(timer port): %ld, pending %u, upcalls %u\n", rc,
           (unsigned)((si->evtchn_pending[port / EVTCHN_WORD_BITS] >> (port % EVTCHN_WORD_BITS)) & 1), upcalls);
    return 0;
}
