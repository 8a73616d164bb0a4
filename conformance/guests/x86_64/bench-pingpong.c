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
#include "rt.h"

#define HC_event_channel_op 32
#define EVTCHNOP_send 4
#define EVTCHNOP_status 5
#define EVTCHNSTAT_interdomain 2
#define DOMID_SELF 0x7ff0
#define SCHEDOP_block 1

/* event_channel.h: dom and port IN; status, vcpu and the union OUT. */
struct evtchn_status { u16 dom, _pad; u32 port, status, vcpu; u32 u[2]; };
struct callback_register { u16 type, flags; u32 _pad; u64 address; };

static u8 si_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;
static volatile unsigned long received, stray;
static unsigned port;

void evtchn_upcall(void)
{
    struct vcpu_info *v = &si->vcpu_info[0];
    v->evtchn_upcall_pending = 0;
    u64 sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned w = __builtin_ctzl(sel);
        sel &= sel - 1;
        u64 bits = si->evtchn_pending[w] & ~si->evtchn_mask[w];
        while (bits) {
            unsigned b = __builtin_ctzl(bits);
            bits &= bits - 1;
            __atomic_and_fetch(&si->evtchn_pending[w], ~(1UL << b), __ATOMIC_SEQ_CST);
            if (w * 64 + b == port) received++;
            else stray++;
        }
    }
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
        struct evtchn_status st = { DOMID_SELF, 0, port, 0, 0, { 0, 0 } };
        if (HYPERCALL(HC_event_channel_op, EVTCHNOP_status, &st, 0, 0, 0) == 0 &&
            st.status == EVTCHNSTAT_interdomain)
            break;
    }

    u64 si_mfn = start_info_ptr->shared_info >> 12;
    HYPERCALL(HC_update_va_mapping, si_page, (si_mfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG, 0, 0);
    struct callback_register cb = { 0 /* CALLBACKTYPE_event */, 0, 0, (u64)entry_event };
    HYPERCALL(HC_callback_op, 0, &cb, 0, 0, 0);

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
