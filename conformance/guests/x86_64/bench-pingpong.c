/*
 * bench-pingpong: the two guests of bench/evtchn.ts, one image. The command line is
 * "ping N" or "pong N". The host binds one interdomain event channel between the two
 * domains before they run; each finds its end with EVTCHNOP_status (the lowest port in
 * state EVTCHNSTAT_interdomain). ping sends first and then waits for the answer; pong
 * waits and answers; each does that N times, so N round trips.
 *
 * Waiting is Linux's pattern for blocking a PV vCPU: with the upcall masked, test the
 * flag the upcall handler sets; if clear, SCHEDOP_block, which unmasks and sleeps only
 * when no event is pending (xen/common/sched/core.c do_block), so an event that arrived
 * between the test and the call is not lost. The upcall (evtchn-entry.S) clears the
 * port's pending bit and counts it. Prints the sends and events it saw and shuts down
 * (poweroff; crash when the counts are not N).
 */
#include "xen.h"

/* event_channel.h: dom and port IN; status, vcpu and the union OUT. */

static u8 si_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;
static volatile unsigned long received, stray;
static unsigned port;

static void on_port(unsigned p)
{
    if (p == port) received++;
    else stray++;
}
void evtchn_upcall(void)
{
    evtchn_scan(si, on_port);
}

extern void entry_event(void);

static const char *parse(const char *s, unsigned long *v)
{
    *v = 0;
    while (*s == ' ') s++;
    while (*s >= '0' && *s <= '9') *v = *v * 10 + (unsigned long)(*s++ - '0');
    return s;
}

/* Waits until `received` reaches `want`, blocking with the race-free pattern above. */
static void wait_for(unsigned long want)
{
    struct vcpu_info *v = &si->vcpu_info[0];
    for (;;) {
        v->evtchn_upcall_mask = 1;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (received >= want) break;
        HYPERCALL(HC_sched_op, SCHEDOP_block, 0, 0, 0, 0);
    }
}

int guest_main(void)
{
    const char *cmd = start_info_ptr->cmd_line;
    int ping = cmd[0] == 'p' && cmd[1] == 'i';
    unsigned long n;
    parse(cmd + 4, &n);
    for (port = 1; port < 64; port++) {
        struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
        if (HYPERCALL(HC_event_channel_op, EVTCHNOP_status, &st, 0, 0, 0) == 0 &&
            st.status == EVTCHNSTAT_interdomain)
            break;
    }

    map_shared_info(si_page);
    register_event_callback(entry_event);

    unsigned long sent = 0, failed = 0;
    for (unsigned long i = 1; i <= n; i++) {
        if (!ping) wait_for(i);
        u32 sp = port;
        failed += HYPERCALL(HC_event_channel_op, EVTCHNOP_send, &sp, 0, 0, 0) != 0;
        sent++;
        if (ping) wait_for(i);
    }
    si->vcpu_info[0].evtchn_upcall_mask = 0;
    printk("%s port %u: sent %lu, received %lu, failed %lu, stray %lu\n", ping ? "ping" : "pong",
           port, sent, received, failed, stray);
    return sent == n && received == n && failed == 0 ? 0 : 3;
}
